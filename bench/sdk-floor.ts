/**
 * The SDK floor of each handler: what its cold init costs at least, because of
 * the AWS SDK clients it creates when its module loads. The cold-start guard
 * compares each handler with its floor, timed in the same run:
 * `coldInit / sdkFloor ≤ {@link TARGET_RATIO_TO_SDK_FLOOR}`.
 *
 * The clients are declared here, per handler, and the floor's entry is
 * generated from the declaration, so a floor cannot drift from its handler
 * silently: `test/unit/sdk-floor.test.ts` loads each handler module and fails
 * when the clients it imports or creates differ from the declaration.
 *
 * This module has no heavy imports, so that test stays a fast unit test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The guard: a handler's cold init takes at most this many times its SDK
 * floor. It replaced the earlier "at most 1.5× a bare node process", which
 * Node's own HTTP and crypto modules exceed before any SDK code runs (see
 * docs/cold-start.md).
 */
export const TARGET_RATIO_TO_SDK_FLOOR = 1.1;

/** The npm package of every SDK client class an Autoheal handler may create. */
export const SDK_CLIENT_PACKAGES = {
  AppflowClient: '@aws-sdk/client-appflow',
  DynamoDBClient: '@aws-sdk/client-dynamodb',
  SFNClient: '@aws-sdk/client-sfn',
  SNSClient: '@aws-sdk/client-sns',
  SQSClient: '@aws-sdk/client-sqs',
} as const;

export type SdkClientName = keyof typeof SDK_CLIENT_PACKAGES;

/**
 * Per handler (its short name, see {@link discoverHandlers}): the SDK clients
 * its module creates when it loads, one entry per `new XClient(...)`. Keep it
 * in step with the handler; the unit test says what changed.
 */
export const HANDLER_SDK_CLIENTS: Readonly<Record<string, readonly SdkClientName[]>> = {
  redrive: ['SFNClient', 'SNSClient', 'SQSClient', 'DynamoDBClient'],
  sweeper: ['SFNClient', 'SQSClient', 'DynamoDBClient'],
  flowStarter: ['AppflowClient', 'SNSClient', 'SQSClient', 'DynamoDBClient'],
  flowHealer: ['AppflowClient', 'SNSClient', 'SQSClient', 'DynamoDBClient'],
  /** Runs once a minute on a schedule: measured, but its cold start delays no event. */
  brakeKeeper: ['DynamoDBClient', 'SNSClient', 'SQSClient'],
  /** Runs only at deploy (a custom resource): measured, but its cold start costs no event any latency. */
  liveHealingClock: ['DynamoDBClient'],
};

/** The name of a handler's floor entry in the benchmark's figures. */
export function sdkFloorName(handlerName: string): string {
  return `${handlerName}SdkFloor`;
}

/**
 * The source of a handler's SDK floor: the same client packages, the same
 * clients created with the same options ({@link AUTOHEAL_CLIENT_CONFIG}),
 * nothing else (no Powertools, no config parsing, no Autoheal code).
 *
 * @param clients the handler's declared clients
 * @param sdkClientsModule import path of `lambda/shared/sdk-clients`, relative to where the entry is written
 * @example
 * ```ts
 * sdkFloorSource(HANDLER_SDK_CLIENTS.sweeper, '../../../lambda/shared/sdk-clients');
 * ```
 */
export function sdkFloorSource(
  clients: readonly SdkClientName[],
  sdkClientsModule: string,
): string {
  const unique = [...new Set(clients)].sort();
  return [
    ...unique.map((name) => `import { ${name} } from '${SDK_CLIENT_PACKAGES[name]}';`),
    `import { AUTOHEAL_CLIENT_CONFIG } from '${sdkClientsModule}';`,
    '',
    `const clients = [${clients.map((name) => `new ${name}(AUTOHEAL_CLIENT_CONFIG)`).join(', ')}];`,
    'export const handler = async (): Promise<unknown> => clients.map((c) => c.config);',
    '',
  ].join('\n');
}

/** A handler entry point found under `lambda/`. */
export interface HandlerEntry {
  /** Short name: the file name before `.handler.ts`, camel-cased (`flowStarter`). */
  readonly name: string;
  /** Path under `lambda/`, as `AutohealFunction` takes it (`appflow/flow-starter.handler.ts`). */
  readonly entry: string;
  /** A reference entry of the benchmark, not a Lambda function of Autoheal. */
  readonly reference?: boolean;
}

export const HANDLER_SUFFIX = '.handler.ts';

/** Every `*.handler.ts` under `lambda/`, sorted, with its short name. */
export function discoverHandlers(projectRoot: string): HandlerEntry[] {
  const lambdaDir = path.join(projectRoot, 'lambda');
  return fs
    .readdirSync(lambdaDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(HANDLER_SUFFIX))
    .map((file) => file.split(path.sep).join('/'))
    .sort()
    .map((entry) => ({
      name: path
        .basename(entry, HANDLER_SUFFIX)
        .replace(/[-_.]+([a-z0-9])/gi, (_m, c: string) => c.toUpperCase()),
      entry,
    }));
}
