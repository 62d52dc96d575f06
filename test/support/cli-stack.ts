/**
 * A deployed Autoheal installation as the operator CLI finds it, seeded into
 * the local AWS endpoint: a stack with the installation output and resources,
 * and the functions with their environment and code zip (config file
 * beside index.js), as the construct deploys them.
 */
import { AppflowClient } from '@aws-sdk/client-appflow';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { strToU8, zipSync } from 'fflate';
import type { CliClients } from '../../cli/clients';
import {
  CONFIG_FILE_NAME,
  CONFIG_FORMAT,
  ENV,
  INSTALLATION_OUTPUT,
  type InstallationFunction,
} from '../../lambda/shared/contract';
import type { LocalAwsEndpoint, StackResourceSpec } from './local-aws/local-aws-endpoint';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './local-aws/wire';

/** `arn:aws:states:eu-central-1:000000000000:` */
export const LOCAL_STATES_ARN_PREFIX = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:`;

/** One function of a seeded installation. */
export interface SeededFunction {
  readonly role: InstallationFunction;
  /** Physical name; its logical id is `${installationId}${role}Function`. */
  readonly functionName: string;
  readonly environment: Readonly<Record<string, string>>;
  /** The config file's text, or none (a zip without it). */
  readonly configFile?: string;
}

/** One Autoheal construct of a seeded stack. */
export interface SeededInstallation {
  /** Construct path, e.g. `Autoheal/Autoheal`. */
  readonly path: string;
  readonly functions: readonly SeededFunction[];
  /** Extra outputs of the construct (e.g. its dashboard URL), by output id. */
  readonly outputs?: Readonly<Record<string, string>>;
}

/** The config file text the construct writes, from normalised sections. */
export function configFileText(
  sections: Record<string, unknown>,
  options: { readonly placeholders?: boolean } = {},
): string {
  return JSON.stringify({
    format: CONFIG_FORMAT,
    ...(options.placeholders && { placeholders: true }),
    sections,
  });
}

/** A code zip as the construct's asset: the bundle and the config file beside it. */
export function codeZip(configFile: string | undefined): Uint8Array {
  return zipSync({
    'index.js': strToU8('exports.handler = async () => ({});\n'),
    ...(configFile !== undefined && { [CONFIG_FILE_NAME]: strToU8(configFile) }),
  });
}

/** The output key CDK gives the installation output of the construct at `path`. */
export function installationOutputKey(path: string): string {
  return `${path.split('/').slice(1).join('')}${INSTALLATION_OUTPUT.id}0A1B2C3D`;
}

/**
 * Seeds a stack of `installations` into the endpoint: the installation outputs
 * (as the construct writes them), the function resources after `filler`
 * other resources (so a caller must follow ListStackResources' pages), and the
 * functions.
 */
export function seedAutohealStack(
  endpoint: LocalAwsEndpoint,
  stackName: string,
  installations: readonly SeededInstallation[],
  options: { readonly filler?: number } = {},
): void {
  const resources: StackResourceSpec[] = Array.from({ length: options.filler ?? 0 }, (_, i) => ({
    logicalId: `Filler${i}`,
    physicalId: `filler-${i}`,
    type: 'AWS::SQS::Queue',
  }));
  const outputs = installations.flatMap((installation) => {
    const construct = installation.path.split('/').slice(1).join('');
    const functions: Record<string, string> = {};
    for (const fn of installation.functions) {
      const logicalId = `${construct}${fn.role}Function1234ABCD`;
      functions[fn.role] = logicalId;
      resources.push({
        logicalId,
        physicalId: fn.functionName,
        type: 'AWS::Lambda::Function',
      });
      endpoint.addFunction({
        functionName: fn.functionName,
        environment: fn.environment,
        code: codeZip(fn.configFile),
      });
    }
    return [
      {
        key: installationOutputKey(installation.path),
        description: `${INSTALLATION_OUTPUT.descriptionPrefix} ${installation.path}: its functions, for the autoheal CLI`,
        value: JSON.stringify({
          kind: INSTALLATION_OUTPUT.kind,
          version: INSTALLATION_OUTPUT.version,
          path: installation.path,
          functions,
        }),
      },
      ...Object.entries(installation.outputs ?? {}).map(([id, value]) => ({
        key: `${construct}${id}5E6F7A8B`,
        value,
      })),
    ];
  });
  endpoint.addStack({
    stackName,
    outputs: [
      { key: 'SomeOtherOutput', value: '{"kind":"not-autoheal"}', description: 'The app' },
      ...outputs,
    ],
    resources,
  });
}

/** The environment every Autoheal function of a seeded installation shares. */
export function sharedEnvironment(options: {
  readonly idempotencyTable: string;
  readonly stateTable?: string;
  readonly keyPrefix?: string;
}): Record<string, string> {
  return {
    [ENV.idempotencyTable]: options.idempotencyTable,
    [ENV.noticeTopicArn]: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:autoheal-notices`,
    ...(options.stateTable && { [ENV.stateTable]: options.stateTable }),
    ...(options.keyPrefix && { [ENV.idempotencyKeyPrefix]: options.keyPrefix }),
  };
}

/**
 * The CLI's clients as an operator's machine has them in the tests: every
 * service the local endpoint serves there, DynamoDB at DynamoDB Local
 * (`AWS_ENDPOINT_URL_DYNAMODB`).
 */
export function cliClientsFor(endpoint: LocalAwsEndpoint): CliClients {
  const config = { endpoint: endpoint.url, region: LOCAL_REGION, maxAttempts: 2 };
  return {
    sfn: new SFNClient(config),
    sqs: new SQSClient(config),
    cloudformation: new CloudFormationClient(config),
    lambda: new LambdaClient(config),
    appflow: new AppflowClient(config),
    dynamodb: new DynamoDBClient({ region: LOCAL_REGION }),
  };
}
