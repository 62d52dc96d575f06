import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  LogLevel,
  NodejsFunction,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  CONFIG_FORMAT,
  ENV,
  LAMBDA_NODE_MAJOR,
  METRICS_NAMESPACE,
} from '../../lambda/shared/contract';

/** Lambda allows 4 KiB of environment in all; a config section may take most of it. */
const MAX_CONFIG_ENV_BYTES = 3 * 1024;

/**
 * A normalised config section as the environment variable `name`, with the
 * {@link CONFIG_FORMAT} it is written in beside it (the handler reads the JSON
 * without validating it again only in that format); refused at synth when it
 * would not fit in the Lambda environment.
 *
 * @param section the output of the section's parser, less options only the infra reads
 * @param alongsideBytes the most bytes of a variable derived from the section
 *   that goes beside it (the live-since document of the redrive scope)
 * @default alongsideBytes 0
 * @example
 * ```ts
 * environment: { ...configEnvironment(ENV.appflowConfig, config), [ENV.idempotencyTable]: table.tableName }
 * ```
 */
export function configEnvironment(
  name: string,
  section: unknown,
  alongsideBytes = 0,
): Record<string, string> {
  const json = JSON.stringify(section);
  const bytes = Buffer.byteLength(json);
  if (bytes + alongsideBytes > MAX_CONFIG_ENV_BYTES) {
    const alongside =
      alongsideBytes > 0
        ? `, and recording when live healing of its scope began takes up to ${alongsideBytes} more`
        : '';
    throw new Error(
      `A config section is ${bytes} bytes as JSON${alongside}; Lambda environment variables allow about ` +
        `${MAX_CONFIG_ENV_BYTES}. Scope by name prefix instead of many ARNs or names, or fold overrides together.`,
    );
  }
  return { [name]: json, [ENV.configFormat]: CONFIG_FORMAT };
}

/** Memory of an Autoheal function unless its props say otherwise. */
export const AUTOHEAL_DEFAULT_MEMORY_MB = 512;

/** The Lambda runtime of every Autoheal function; its major is {@link LAMBDA_NODE_MAJOR}. */
export const AUTOHEAL_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * How every Autoheal handler is bundled (local esbuild, one file per function).
 * `bench/cold-start.ts` measures exactly these bundles (it bundles through this
 * construct); `test/infra/bundling.test.ts` asserts the choices below.
 *
 * - The SDK and Powertools are bundled, not taken from the runtime: the tested
 *   version is the deployed version, Powertools needs a matching SDK, and the
 *   runtime's SDK loads its untree-shaken CommonJS build, which starts slower.
 * - `mainFields: module, main` makes esbuild read the ES modules of the SDK
 *   (`dist-es`) instead of its CommonJS build (`dist-cjs`, esbuild's default
 *   on `platform: node`). Only ES modules can be tree-shaken, so only the
 *   commands and serde code the handlers use are bundled: about 40 % fewer
 *   bytes and a third less cold init time.
 * - CommonJS output, not ESM: an ES module importing `node:http` makes Node
 *   build that builtin's ESM facade, which reads every export, including the
 *   lazy `WebSocket`/`MessageEvent` getters that load undici; that costs about
 *   20 ms per cold start, and nothing else in a single-file ESM bundle wins it
 *   back. A CommonJS `require('http')` does not touch those getters.
 * - Minified, no source map, `keepNames` off: less to read and parse.
 * - Two SDK modules are replaced by the files in `lambda/shared/bundling/`:
 *   the default credential chain by its first link (the environment, which is
 *   where Lambda puts the role's credentials), and the event-stream serde,
 *   which none of the called operations use. Both are loaded with dynamic
 *   `import()`, which makes esbuild wrap hundreds of SDK modules in lazy
 *   initialisers: about 10-13 ms of every cold start and 140 KiB of bundle.
 * - esbuild logs warnings and errors only: its per-bundle size summary made
 *   every synth and test run print a block per function. CDK documents
 *   `LogLevel.WARNING` as the default but passes no `--log-level` unless it is
 *   set, so esbuild's CLI default (`info`) applied. The level changes what
 *   esbuild prints, not what it writes.
 */
export const AUTOHEAL_BUNDLING = {
  externalModules: [],
  mainFields: ['module', 'main'],
  format: OutputFormat.CJS,
  target: `node${LAMBDA_NODE_MAJOR}`,
  minify: true,
  sourceMap: false,
  keepNames: false,
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
  esbuildArgs: {
    '--alias': [
      `@aws-sdk/credential-provider-node=${bundlingReplacement('env-credentials.ts')}`,
      `@smithy/core/event-streams=${bundlingReplacement('no-event-streams.ts')}`,
    ],
  },
} as const satisfies BundlingOptions;

/** Absolute path of a replacement module: esbuild resolves alias targets from its working directory. */
function bundlingReplacement(file: string): string {
  return path.join(__dirname, '..', '..', 'lambda', 'shared', 'bundling', file);
}

export interface AutohealFunctionProps {
  /** Handler file under `lambda/`, e.g. `redrive/redrive.handler.ts`. */
  readonly entry: string;
  /** Shown in the Lambda console. */
  readonly description: string;
  /** Powertools service name: a log field and metric dimension. */
  readonly serviceName: string;
  /** Environment variables named in `lambda/shared/contract.ts`. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * What the error alarm does.
   * @default - the alarm only changes state
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Powertools-instrumented Node.js Lambda function on arm64, bundled locally
 * with esbuild, with its own log group and a role that can write only there.
 *
 * @example
 * ```ts
 * const fn = new AutohealFunction(this, 'Redrive', {
 *   entry: 'redrive/redrive.handler.ts',
 *   description: 'Redrives failed executions',
 *   serviceName: 'redrive',
 *   environment: { AUTOHEAL_IDEMPOTENCY_TABLE: table.tableName },
 * });
 * ```
 */
export class AutohealFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly timeout: Duration;
  /** Fires when the function fails (an unhandled error, a timeout, a crash). */
  public readonly errorAlarm: cloudwatch.Alarm;

  public constructor(scope: Construct, id: string, props: AutohealFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout ?? Duration.seconds(30);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: that managed policy can write to every log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Autoheal ${props.serviceName} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(__dirname, '..', '..', 'lambda', props.entry),
      handler: 'handler',
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
        ...props.environment,
      },
      bundling: {
        ...AUTOHEAL_BUNDLING,
        externalModules: [...AUTOHEAL_BUNDLING.externalModules],
        mainFields: [...AUTOHEAL_BUNDLING.mainFields],
        esbuildArgs: { '--alias': [...AUTOHEAL_BUNDLING.esbuildArgs['--alias']] },
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: `Pinned to nodejs${LAMBDA_NODE_MAJOR}.x, the Node major the test suite runs on; the runtime and the tests move together.`,
    });

    this.errorAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `The Autoheal ${props.serviceName} function failed. Read its log group for the error.`,
      metric: this.function.metricErrors({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.SUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmAction) this.errorAlarm.addAlarmAction(props.alarmAction);
  }
}
