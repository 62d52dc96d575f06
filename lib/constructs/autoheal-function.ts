import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_NODE_MAJOR, METRICS_NAMESPACE } from '../../lambda/shared/contract';
import { type ConfigTokenRecord, stageConfigAsset } from './config-asset';

/** Memory of an Autoheal function unless its props say otherwise. */
export const AUTOHEAL_DEFAULT_MEMORY_MB = 512;

/** The Lambda runtime of every Autoheal function; its major is {@link LAMBDA_NODE_MAJOR}. */
export const AUTOHEAL_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * Where the pre-bundled handlers are: `assets/handlers/` at the package root.
 *
 * This file runs from two places: the source tree (`lib/constructs/`, under
 * ts-node and jest) and the compiled package (`dist/lib/constructs/`, in a
 * consumer's node_modules). Rather than a fixed number of `..`, walk up to the
 * nearest `package.json`, the package root in both (dist/ has none).
 */
export function handlerAssetsDir(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}`);
    dir = parent;
  }
  return path.join(dir, 'assets', 'handlers');
}

/**
 * The asset directory of a handler (`redrive/redrive.handler.ts` →
 * `assets/handlers/redrive`), bundled by `npm run bundle`
 * (scripts/handler-bundling.ts holds the esbuild settings).
 */
export function handlerAssetDir(entry: string): string {
  const name = path.posix.basename(entry, '.handler.ts');
  const dir = path.join(handlerAssetsDir(), name);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `The ${name} handler is not bundled (no ${path.join(dir, 'index.js')}): run \`npm run bundle\` (or \`npm run build\`)`,
    );
  }
  return dir;
}

export interface AutohealFunctionProps {
  /**
   * Handler file under `lambda/`, e.g. `redrive/redrive.handler.ts`: the
   * function runs its pre-built bundle, `assets/handlers/redrive/index.js`.
   */
  readonly entry: string;
  /** Shown in the Lambda console. */
  readonly description: string;
  /** Powertools service name: a log field and metric dimension. */
  readonly serviceName: string;
  /** Environment variables named in `lambda/shared/contract.ts`. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Normalised config sections by `CONFIG_SECTION` name, written into the
   * function's asset as `autoheal-config.json` (see `config-asset.ts`); the
   * handler reads them with `readNormalisedConfig`.
   * @default - no config file: the asset is the bundle alone
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /**
   * Where the config's values only known at deploy go when they do not fit
   * the environment (see `LiveHealingClock.configTokenRecord`).
   * @default - none: they must fit the environment
   */
  readonly configTokenRecord?: ConfigTokenRecord;
  /**
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Powertools-instrumented Node.js Lambda function on arm64 running a
 * pre-built handler bundle (no bundling at synth), with its own log group and
 * a role that can write only there. Its error alarm and dashboard widgets come
 * from {@link AutohealMonitoring}.
 *
 * @example
 * ```ts
 * const fn = new AutohealFunction(this, 'Redrive', {
 *   entry: 'redrive/redrive.handler.ts',
 *   description: 'Redrives failed executions',
 *   serviceName: 'redrive',
 *   environment: { AUTOHEAL_IDEMPOTENCY_TABLE: table.tableName },
 *   config: { redrive: runtimeConfig(config) },
 * });
 * ```
 */
export class AutohealFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly timeout: Duration;
  /** Powertools service name: the `service` dimension of its metrics; names it on the dashboard and its error alarm. */
  public readonly serviceName: string;

  public constructor(scope: Construct, id: string, props: AutohealFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.seconds(30);
    this.serviceName = props.serviceName;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy can write to every log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Autoheal ${props.serviceName} function`,
    });
    this.logGroup.grantWrite(this.role);

    const bundleDir = handlerAssetDir(props.entry);
    const staged = props.config
      ? stageConfigAsset(this, bundleDir, props.config, { tokenRecord: props.configTokenRecord })
      : undefined;
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(staged?.dir ?? bundleDir),
      handler: 'index.handler',
      description: props.description,
      runtime: AUTOHEAL_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? AUTOHEAL_DEFAULT_MEMORY_MB,
      timeout: this.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...staged?.environment,
        ...props.environment,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: `Pinned to nodejs${LAMBDA_NODE_MAJOR}.x, the Node major the test suite runs on; the runtime and the tests move together.`,
    });
  }
}
