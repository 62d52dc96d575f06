/**
 * Finds the deployment an `autoheal` command acts on.
 *
 * From the stack (`--stack`, default `Autoheal`): DescribeStacks for the
 * installation's output (see `INSTALLATION_OUTPUT` in the contract: its
 * functions by logical id, one output per Autoheal construct),
 * ListStackResources for the functions' names, then Lambda GetFunction for
 * each function's environment and code zip. The zip's config file, filled in
 * with that function's environment by the handler's own reader, and the
 * live-since document, read as the handlers read it, ARE the deployment as the
 * handlers see it: no second copy of the config, no guess.
 *
 * Offline (`--config FILE`): the app's config file, validated by the app's
 * schema, and the resource names the flags give; no AWS call.
 *
 * Explicit flags (`--idempotency-table`, `--state-table`,
 * `--redrive-queue-url`) override what discovery finds.
 */
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
  type Output as StackOutput,
} from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { unzipSync } from 'fflate';
import { readConfigTokens } from '../lambda/redrive/config-token-record';
import { liveSinceSince } from '../lambda/redrive/live-healing';
import { liveSinceSource } from '../lambda/redrive/live-since-source';
import { awsErrorName } from '../lambda/shared/aws-errors';
import type { AppflowHandlerConfig } from '../lambda/shared/config/appflow-config';
import type { RedriveHandlerConfig } from '../lambda/shared/config/redrive-config';
import {
  CONFIG_FILE_NAME,
  CONFIG_SECTION,
  DEFAULT_IDEMPOTENCY_KEY_PREFIX,
  ENV,
  INSTALLATION_OUTPUT,
  type InstallationFunction,
  type InstallationOutputValue,
} from '../lambda/shared/contract';
import {
  configSectionOf,
  configTokenReference,
  parseConfigFileText,
} from '../lambda/shared/normalised-config';
import { CliError } from './cli-error';
import type { CliClients } from './clients';
import type { GlobalOptions } from './context';
import type { Deployment } from './deployment';
import { readOfflineConfig } from './offline-config';

/** An installation's output, parsed. */
export interface FoundInstallation extends InstallationOutputValue {
  /** The output's key. */
  readonly outputKey: string;
}

/** A function of the installation as GetFunction answers it. */
interface DeployedFunction {
  readonly name: string;
  readonly arn: string;
  readonly env: Readonly<Record<string, string>>;
  readonly codeLocation?: string;
}

/** The flags that override discovery, as one line of help each names them. */
const OVERRIDE_FLAGS = '--idempotency-table, --state-table, --redrive-queue-url';

/**
 * The deployment: from `--config FILE` offline, else discovered from the
 * stack; explicit flags win either way.
 *
 * @throws {CliError} one line saying what to do: the stack is missing, has no
 *   Autoheal output (or several and no `--installation`), or access is denied
 * @throws {ConfigError} naming the field, when `--config` is not a valid config
 * @example
 * ```ts
 * const deployment = await discoverDeployment({ stack: 'Autoheal' }, createCliClients({}));
 * deployment.redrive?.workQueueUrl;
 * ```
 */
export async function discoverDeployment(
  options: GlobalOptions,
  clients: CliClients,
): Promise<Deployment> {
  const found = options.config
    ? offlineDeployment(options.config, options)
    : await deployedDeployment(options, clients);
  return withOverrides(found, options);
}

/** The flags' values over the deployment's. */
function withOverrides(deployment: Deployment, options: GlobalOptions): Deployment {
  const { redrive } = deployment;
  return {
    ...deployment,
    ...(options.idempotencyTable && { idempotencyTableName: options.idempotencyTable }),
    ...(options.stateTable && { stateTableName: options.stateTable }),
    ...(redrive &&
      options.redriveQueueUrl && {
        redrive: { ...redrive, workQueueUrl: options.redriveQueueUrl },
      }),
  };
}

/** A deployment from the app's config file and the flags (`--config FILE`): no AWS call. */
function offlineDeployment(file: string, options: GlobalOptions): Deployment {
  const config = readOfflineConfig(file);
  const redrive = config.redrive;
  return {
    stackName: '',
    region: options.region ?? process.env.AWS_REGION ?? '',
    idempotencyKeyPrefix: DEFAULT_IDEMPOTENCY_KEY_PREFIX,
    idempotencyTableName: options.idempotencyTable ?? '',
    ...(redrive && {
      redrive: {
        workQueueUrl: options.redriveQueueUrl ?? '',
        deadLetterQueueUrl: '',
        statesArnPrefix: '',
        config: redrive,
        // As if deployed long ago: every scoped machine is under live healing (offline, no clock to read).
        liveSince: liveSinceSince(redrive, 0),
      },
    }),
    ...(config.appflow && { appflow: { config: config.appflow } }),
  };
}

/** The deployment as the stack's functions see it. */
async function deployedDeployment(
  options: GlobalOptions,
  clients: CliClients,
): Promise<Deployment> {
  const stackName = options.stack;
  const outputs = await stackOutputs(clients.cloudformation, stackName);
  const installation = chooseInstallation(stackName, outputs, options.installation);
  const names = await functionNames(clients.cloudformation, stackName, installation);
  const functions = Object.fromEntries(
    await Promise.all(
      Object.entries(names).map(async ([role, name]) => [
        role,
        await deployedFunction(clients.lambda, name),
      ]),
    ),
  ) as Partial<Record<InstallationFunction, DeployedFunction>>;
  const { redrive, sweeper, flowStarter, flowHealer, brakeKeeper } = functions;
  const any = redrive ?? flowHealer ?? flowStarter ?? sweeper ?? brakeKeeper;
  if (!any) {
    throw new CliError(
      `The Autoheal installation ${installation.path} in stack ${stackName} names no function: redeploy it with the Autoheal construct`,
    );
  }
  const env = (name: string) =>
    [redrive, flowHealer, flowStarter, sweeper, brakeKeeper]
      .map((fn) => fn?.env[name])
      .find((value) => value !== undefined && value !== '');
  const idempotencyTableName = options.idempotencyTable ?? env(ENV.idempotencyTable) ?? '';
  const reads = { dynamodb: clients.dynamodb, tableName: idempotencyTableName };
  const prefix = env(ENV.idempotencyKeyPrefix) || DEFAULT_IDEMPOTENCY_KEY_PREFIX;
  const dashboard = dashboardUrlOf(outputs, installation);
  const stateTableName = env(ENV.stateTable);
  const noticeTopicArn = env(ENV.noticeTopicArn);
  return {
    stackName,
    region: any.arn.split(':')[3] ?? '',
    idempotencyKeyPrefix: prefix,
    idempotencyTableName,
    ...(stateTableName && { stateTableName }),
    ...(noticeTopicArn && { noticeTopicArn }),
    ...(dashboard && { dashboardUrl: dashboard }),
    ...(redrive && { redrive: await redriveDeployment(redrive, reads) }),
    ...(flowHealer && {
      appflow: {
        config: await configOf<AppflowHandlerConfig>(flowHealer, CONFIG_SECTION.appflow, reads),
        healerWorkQueueUrl: flowHealer.env[ENV.workQueueUrl],
        healerDeadLetterQueueUrl: flowHealer.env[ENV.deadLetterQueueUrl],
        ...(flowStarter && {
          starterFunctionName: flowStarter.name,
          starterDeadLetterQueueUrl: flowStarter.env[ENV.deadLetterQueueUrl],
        }),
      },
    }),
  };
}

/** The redrive path: the redrive function's queues, config and live-since document. */
async function redriveDeployment(
  fn: DeployedFunction,
  reads: { dynamodb: DynamoDBClient; tableName: string },
): Promise<NonNullable<Deployment['redrive']>> {
  const liveSinceJson = requiredEnv(fn, ENV.liveSince);
  const [config, liveSince] = await Promise.all([
    configOf<RedriveHandlerConfig>(fn, CONFIG_SECTION.redrive, reads),
    (async () => {
      const source = liveSinceSource(liveSinceJson, reads);
      return 'document' in source ? source.document : await source.load();
    })(),
  ]);
  return {
    functionName: fn.name,
    workQueueUrl: requiredEnv(fn, ENV.workQueueUrl),
    deadLetterQueueUrl: requiredEnv(fn, ENV.deadLetterQueueUrl),
    statesArnPrefix: requiredEnv(fn, ENV.statesArnPrefix),
    config,
    liveSince,
  };
}

function requiredEnv(fn: DeployedFunction, name: string): string {
  const value = fn.env[name];
  if (value === undefined || value === '') {
    throw new CliError(
      `Function ${fn.name} has no ${name} in its environment: redeploy it with the Autoheal construct`,
    );
  }
  return value;
}

/**
 * A config section as the function reads it: its code zip's config file,
 * filled in with its environment (and the clock's token records, when the
 * environment points there) by the handler's own reader.
 */
async function configOf<T extends object>(
  fn: DeployedFunction,
  section: string,
  reads: { dynamodb: DynamoDBClient; tableName: string },
): Promise<T> {
  const file = `${CONFIG_FILE_NAME} of function ${fn.name}`;
  const text = await configFileText(fn);
  const reference = configTokenReference(fn.env[ENV.configTokens]);
  const recordTokens = reference ? await readConfigTokens(reads, reference) : undefined;
  const value = configSectionOf<T>(
    parseConfigFileText(text, file, fn.env, recordTokens),
    section,
    file,
  );
  if (!value) {
    throw new CliError(
      `The ${file} has no ${section} section: redeploy it with the Autoheal construct`,
    );
  }
  return value;
}

/** The config file in the function's code zip (Lambda's pre-signed `Code.Location`). */
async function configFileText(fn: DeployedFunction): Promise<string> {
  if (!fn.codeLocation) {
    throw new CliError(
      `GetFunction gave no code location for ${fn.name}: is it a container image?`,
    );
  }
  const response = await fetch(fn.codeLocation);
  if (!response.ok) {
    throw new CliError(
      `Cannot download the code of function ${fn.name} (HTTP ${response.status}): run again; the link Lambda gives lasts 10 minutes`,
    );
  }
  const zip = new Uint8Array(await response.arrayBuffer());
  const files = unzipSync(zip, { filter: (file) => file.name === CONFIG_FILE_NAME });
  const bytes = files[CONFIG_FILE_NAME];
  if (!bytes) {
    throw new CliError(
      `The code of function ${fn.name} has no ${CONFIG_FILE_NAME}: redeploy it with the Autoheal construct`,
    );
  }
  return new TextDecoder().decode(bytes);
}

/** What to do when the operator cannot read the stack or its functions. */
function awsProblem(error: unknown, what: string, permission: string): never {
  const name = awsErrorName(error);
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
    throw new CliError(
      `Access denied reading ${what} (${permission}): use a profile or role that may (--profile), or give the deployment offline with --config FILE and ${OVERRIDE_FLAGS}`,
    );
  }
  if (/ExpiredToken|UnrecognizedClient|InvalidClientTokenId|CredentialsProviderError/i.test(name)) {
    throw new CliError(
      `No valid AWS credentials to read ${what} (${name}): log in (aws sso login, --profile) and run again`,
    );
  }
  throw error;
}

/** The stack's outputs. */
async function stackOutputs(
  cloudformation: CloudFormationClient,
  stackName: string,
): Promise<readonly StackOutput[]> {
  try {
    const { Stacks } = await cloudformation.send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    return Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/.test(String(error))) {
      const region = await cloudformation.config.region().catch(() => 'this region');
      throw new CliError(
        `Stack ${stackName} does not exist in ${region}: name the stack Autoheal is deployed in with --stack NAME (and --region, --profile)`,
      );
    }
    return awsProblem(error, `stack ${stackName}`, 'cloudformation:DescribeStacks');
  }
}

/** The installation outputs of a stack, parsed. */
export function installationsOf(outputs: readonly StackOutput[]): FoundInstallation[] {
  return outputs.flatMap((output) => {
    if (!output.Description?.startsWith(INSTALLATION_OUTPUT.descriptionPrefix)) return [];
    let value: Partial<InstallationOutputValue>;
    try {
      value = JSON.parse(output.OutputValue ?? '') as Partial<InstallationOutputValue>;
    } catch {
      return [];
    }
    if (value?.kind !== INSTALLATION_OUTPUT.kind || typeof value.path !== 'string') return [];
    return [
      {
        kind: INSTALLATION_OUTPUT.kind,
        version: Number(value.version),
        path: value.path,
        functions: value.functions ?? {},
        outputKey: output.OutputKey ?? '',
      },
    ];
  });
}

/** The one installation the command acts on. */
function chooseInstallation(
  stackName: string,
  outputs: readonly StackOutput[],
  wanted: string | undefined,
): FoundInstallation {
  const installations = installationsOf(outputs);
  const paths = installations.map((i) => i.path).join(', ');
  if (installations.length === 0) {
    throw new CliError(
      `Stack ${stackName} has no Autoheal installation output: name the stack Autoheal is deployed in with --stack, or redeploy it with this version of cdk-autoheal`,
    );
  }
  if (wanted !== undefined) {
    const chosen = installations.find((i) => i.path === wanted);
    if (!chosen) {
      throw new CliError(
        `--installation ${wanted}: stack ${stackName} has no Autoheal installation at that path; it has ${paths}`,
      );
    }
    return chosen;
  }
  if (installations.length > 1) {
    throw new CliError(
      `Stack ${stackName} has ${installations.length} Autoheal installations: pick one with --installation PATH (${paths})`,
    );
  }
  return installations[0];
}

/** The installation's function names: its logical ids, resolved by ListStackResources (every page). */
async function functionNames(
  cloudformation: CloudFormationClient,
  stackName: string,
  installation: FoundInstallation,
): Promise<Partial<Record<InstallationFunction, string>>> {
  const wanted = new Map(
    Object.entries(installation.functions).map(([role, logicalId]) => [logicalId, role]),
  );
  const names: Partial<Record<InstallationFunction, string>> = {};
  try {
    for await (const page of paginateListStackResources(
      { client: cloudformation },
      { StackName: stackName },
    )) {
      for (const summary of page.StackResourceSummaries ?? []) {
        const role = wanted.get(summary.LogicalResourceId ?? '');
        if (role && summary.PhysicalResourceId) {
          names[role as InstallationFunction] = summary.PhysicalResourceId;
        }
      }
    }
  } catch (error) {
    return awsProblem(
      error,
      `the resources of stack ${stackName}`,
      'cloudformation:ListStackResources',
    );
  }
  const missing = [...wanted].filter(([, role]) => !names[role as InstallationFunction]);
  if (missing.length > 0) {
    throw new CliError(
      `Stack ${stackName} has no function ${missing.map(([id]) => id).join(', ')} named by its Autoheal output: wait for the deploy under way to end, or redeploy`,
    );
  }
  return names;
}

/** A function's configuration and code location. */
async function deployedFunction(lambda: LambdaClient, name: string): Promise<DeployedFunction> {
  try {
    const { Configuration, Code } = await lambda.send(
      new GetFunctionCommand({ FunctionName: name }),
    );
    return {
      name: Configuration?.FunctionName ?? name,
      arn: Configuration?.FunctionArn ?? '',
      env: Configuration?.Environment?.Variables ?? {},
      codeLocation: Code?.Location,
    };
  } catch (error) {
    return awsProblem(error, `function ${name}`, 'lambda:GetFunction');
  }
}

/** The dashboard URL output of the same construct, when there is one. */
function dashboardUrlOf(
  outputs: readonly StackOutput[],
  installation: FoundInstallation,
): string | undefined {
  const at = installation.outputKey.lastIndexOf(INSTALLATION_OUTPUT.id);
  const prefix = at > 0 ? installation.outputKey.slice(0, at) : '';
  return outputs.find(
    (output) =>
      output.OutputKey?.startsWith(prefix) &&
      /DashboardUrl/.test(output.OutputKey) &&
      output.OutputValue,
  )?.OutputValue;
}
