/**
 * A scope of 1,000 state machines listed by ARN (generated names, no shared
 * prefix) with 200 overrides, end to end: the config is staged into a
 * directory as the construct stages it (`stageConfigAsset`), the handler reads
 * it at init through `AUTOHEAL_CONFIG_FILE`, and runs with the real AWS SDK
 * against the local AWS endpoint (Step Functions, SQS) and DynamoDB Local. A
 * failure of the last listed machine is redriven once; the event of a machine
 * of the same account and region that is not listed is parked with its reason,
 * without any Step Functions call.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import type {
  RedriveHandlerConfig,
  SweeperHandlerConfig,
} from '../../lambda/shared/config/redrive-config';
import {
  CONFIG_FILE_NAME,
  CONFIG_SECTION,
  ENV,
  IDEMPOTENCY_TABLE,
  MESSAGE_ATTRIBUTES,
} from '../../lambda/shared/contract';
import { readNormalisedConfig } from '../../lambda/shared/normalised-config';
import { handlerAssetDir } from '../../lib/constructs/autoheal-function';
import { stageConfigAsset } from '../../lib/constructs/config-asset';
import {
  machineArnOf,
  type RedriveRig,
  RIG_ACCOUNT,
  RIG_REGION,
  startRedriveRig,
} from '../support/resilience/redrive-rig';
import { rigSweeper } from '../support/resilience/rig-sweeper';

jest.setTimeout(60_000);

const MACHINES = 1000;
const OVERRIDES = 200;
/** Stopped long enough ago that the first redrive's delay has passed: the handler acts at once. */
const STOPPED_AGO_MS = 30 * 60_000;

/**
 * The generated name of machine #`index`: 30-50 characters of hex, as a
 * platform team's tooling names them, so no two share a usable prefix.
 */
function generatedName(index: number): string {
  const hex = createHash('sha256').update(`machine-${index}`).digest('hex');
  return hex.slice(0, 30 + (index % 21));
}

const names = Array.from({ length: MACHINES }, (_, i) => generatedName(i));
const LAST_LISTED = names[MACHINES - 1];
/** Of the rig's account and region, as the listed machines are, but not listed. */
const UNLISTED = generatedName(MACHINES);

/**
 * The config file of the redrive handler (or, with `forSweeper`, of the
 * sweeper) for `machineNames`, staged as the construct stages it (the real
 * handler bundle beside it), and the variables the function gets with it.
 */
function stagedConfig(machineNames: readonly string[], forSweeper = false) {
  const config = parseRedriveConfig({
    stateMachineArns: machineNames.map(machineArnOf),
    // The last 200 listed machines, #999 among them, have their own policy.
    overrides: Object.fromEntries(
      machineNames.slice(-OVERRIDES).map((name) => [name, { maxRedrives: 2 }]),
    ),
    // At ListExecutions' quota: one pass over 1,000 machines takes 500 s, inside one invocation.
    sweeper: { requestsPerSecond: 2 },
  });
  // What each function's construct leaves out of its file (see runtimeConfig in lib/constructs).
  const { processing: _processing, sweeper, kmsKeyArns: _kmsKeyArns, ...handlerSection } = config;
  const stack = new Stack(new App(), 'Host');
  const staged = stageConfigAsset(
    stack,
    handlerAssetDir(forSweeper ? 'redrive/sweeper.handler.ts' : 'redrive/redrive.handler.ts'),
    { [CONFIG_SECTION.redrive]: forSweeper ? { ...handlerSection, sweeper } : handlerSection },
  );
  return { file: path.join(staged.dir, CONFIG_FILE_NAME), environment: staged.environment };
}

/** The redrive section as the handler reads it at init: from the file `AUTOHEAL_CONFIG_FILE` names. */
function readAtInit<T extends RedriveHandlerConfig>(
  file: string,
  environment: Record<string, string>,
): T {
  process.env = { ...process.env, ...environment, [ENV.configFile]: file };
  return readNormalisedConfig<T>(CONFIG_SECTION.redrive);
}

/** The idempotency records in the rig's table: their key and status. */
async function idempotencyRecords(tableName: string) {
  const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
  try {
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
    return Items.map((item) => ({
      id: item[IDEMPOTENCY_TABLE.partitionKey]?.S,
      status: item.status?.S,
    }));
  } finally {
    client.destroy();
  }
}

const savedEnv = { ...process.env };
let rig: RedriveRig | undefined;
const clients: { destroy(): void }[] = [];

afterEach(async () => {
  process.env = { ...savedEnv };
  for (const client of clients.splice(0)) client.destroy();
  await rig?.stop();
  rig = undefined;
});

describe('a scope of 1,000 state machines by ARN and 200 overrides, read from the config file', () => {
  it('redrives a failure of machine #999 once and parks the event of an unlisted machine', async () => {
    // Prepare
    const { file, environment } = stagedConfig(names);
    const config = readAtInit(file, environment);
    rig = await startRedriveRig({ environments: 2, config });
    const [listedFailure] = rig.seedFailures(1, {
      machine: LAST_LISTED,
      stoppedAgoMs: STOPPED_AGO_MS,
    });
    const [unlistedFailure] = rig.seedFailures(1, {
      machine: UNLISTED,
      stoppedAgoMs: STOPPED_AGO_MS,
    });

    // Act
    await rig.enqueue([rig.failureEventBody(listedFailure), rig.failureEventBody(unlistedFailure)]);
    const run = await rig.drain(15_000);

    // Assess: the scope travelled in the file, far past what the 4 KB environment holds
    expect(fs.statSync(file).size).toBeGreaterThan(40 * 1024);
    expect(environment).toEqual({});
    expect(config.stateMachineArns).toHaveLength(MACHINES);
    expect(Object.keys(config.overrides)).toHaveLength(OVERRIDES);
    expect(run.abandoned).toBe(false);
    // Machine #999: redriven once through the endpoint, its record completed in DynamoDB Local
    expect(rig.endpoint.execution(listedFailure)?.redrives).toHaveLength(1);
    const sfnCalls = rig.endpoint.calls
      .filter((call) => call.service === 'sfn')
      .map(({ operation, target }) => ({ operation, target }));
    expect(sfnCalls.filter((call) => call.operation === 'RedriveExecution')).toEqual([
      { operation: 'RedriveExecution', target: listedFailure },
    ]);
    // Every Step Functions call was about #999 (a 30-minute-old event is confirmed first)
    expect(sfnCalls.filter((call) => call.target !== listedFailure)).toEqual([]);
    expect(await idempotencyRecords(rig.tableName)).toEqual([
      { id: expect.any(String), status: 'COMPLETED' },
    ]);
    // The unlisted machine: parked with the field that put it out of scope, never redriven
    expect(rig.endpoint.execution(unlistedFailure)?.redrives).toEqual([]);
    const parked = rig.parked();
    expect(parked).toHaveLength(1);
    expect(JSON.parse(parked[0].body).detail).toMatchObject({
      executionArn: unlistedFailure,
      stateMachineArn: `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:stateMachine:${UNLISTED}`,
    });
    expect(parked[0].messageAttributes[MESSAGE_ATTRIBUTES.parkedReason]?.StringValue).toMatch(
      /^invalid-event: detail\.stateMachineArn: /,
    );
    expect(rig.tally([listedFailure, unlistedFailure])).toMatchObject({
      redriven: 1,
      duplicates: 0,
      parkedWithReason: 1,
      lost: 0,
    });
  });

  it('sweeps the lost failure of machine #999 once, at the quota, and not the unlisted machine', async () => {
    // Prepare: both failures' events were lost; the sweeper paces on a simulated clock
    const { file, environment } = stagedConfig(names, true);
    const config = readAtInit<SweeperHandlerConfig>(file, environment);
    rig = await startRedriveRig({ environments: 2, config });
    const [listedFailure] = rig.seedFailures(1, {
      machine: LAST_LISTED,
      stoppedAgoMs: STOPPED_AGO_MS,
    });
    const [unlistedFailure] = rig.seedFailures(1, {
      machine: UNLISTED,
      stoppedAgoMs: STOPPED_AGO_MS,
    });
    // One 15-minute invocation whose time is simulated: the pacer's waits advance the clock.
    const sweeper = rigSweeper(rig, config, { simulatedClock: true, invocationMs: 900_000 });
    clients.push(sweeper);

    // Act
    const summary = await sweeper.sweep();
    await rig.drain(15_000);

    // Assess
    // One pass over all 1,000 machines, paced at 2 calls a second (some 500 simulated seconds)
    expect(summary).toMatchObject({ enqueued: 1, truncated: false, failed: 0 });
    expect(sweeper.simulatedSeconds()).toBeGreaterThanOrEqual((MACHINES - 1) / 2);
    const listed = rig.endpoint.calls
      .filter((call) => call.operation === 'ListExecutions')
      .map((call) => call.target);
    expect(new Set(listed)).toEqual(new Set(names.map(machineArnOf)));
    expect(rig.tally([listedFailure, unlistedFailure])).toMatchObject({
      redriven: 1,
      duplicates: 0,
      lost: 1,
    });
    expect(rig.endpoint.execution(unlistedFailure)?.redrives).toEqual([]);
  });
});

/** A scope role of the rig's account, as the construct names one. */
const SCOPE_ROLE_ARN = `arn:aws:iam::${RIG_ACCOUNT}:role/Autoheal-RedriveHandlerScopeRole1-AbC123`;
/**
 * Machines #600 to #999 on the scope role, as `AUTOHEAL_SCOPE_ROLES` routes
 * them (the construct's routes and grants agree: see scale-redrive.test.ts).
 */
const FIRST_ON_SCOPE_ROLE = 600;
const SCOPE_ROLES = JSON.stringify([[FIRST_ON_SCOPE_ROLE, SCOPE_ROLE_ARN]]);
/** The access key id of the test's own credentials: the function's role's. */
const OWN_ACCESS_KEY = 'test';

describe('a scope of 1,000 state machines whose last 400 are granted to a scope role', () => {
  /** Who signed each Step Functions call: the role an access key was issued for, or the function's own. */
  const signers = (operation: string) =>
    (rig as RedriveRig).endpoint.calls
      .filter((call) => call.operation === operation)
      .map((call) => ({
        target: call.target,
        signedBy:
          call.signedWith?.accessKeyId === OWN_ACCESS_KEY
            ? 'function'
            : ((rig as RedriveRig).endpoint.assumedRoleOf(call.signedWith?.accessKeyId ?? '') ??
              'unknown'),
      }));

  it("redrives machine #999 with the scope role's credentials and machine #0 with the function's own", async () => {
    // Prepare
    const { file, environment } = stagedConfig(names);
    const config = readAtInit(file, environment);
    rig = await startRedriveRig({ environments: 1, config, scopeRoles: SCOPE_ROLES });
    const [onScopeRole] = rig.seedFailures(1, {
      machine: LAST_LISTED,
      stoppedAgoMs: STOPPED_AGO_MS,
    });
    const [onOwnRole] = rig.seedFailures(1, { machine: names[0], stoppedAgoMs: STOPPED_AGO_MS });

    // Act
    await rig.enqueue([rig.failureEventBody(onScopeRole), rig.failureEventBody(onOwnRole)]);
    const run = await rig.drain(15_000);

    // Assess
    expect(run.abandoned).toBe(false);
    expect(rig.tally([onScopeRole, onOwnRole])).toMatchObject({ redriven: 2, duplicates: 0 });
    // Every Step Functions call about #999 (the confirming DescribeExecution, the redrive) as the scope role
    expect(signers('RedriveExecution')).toEqual(
      expect.arrayContaining([
        { target: onScopeRole, signedBy: SCOPE_ROLE_ARN },
        { target: onOwnRole, signedBy: 'function' },
      ]),
    );
    expect(signers('RedriveExecution')).toHaveLength(2);
    expect(signers('DescribeExecution')).toEqual(
      expect.arrayContaining([
        { target: onScopeRole, signedBy: SCOPE_ROLE_ARN },
        { target: onOwnRole, signedBy: 'function' },
      ]),
    );
    // One AssumeRole, made with the function's own credentials, served every call of the role
    expect(rig.endpoint.calls.filter((call) => call.operation === 'AssumeRole')).toEqual([
      expect.objectContaining({
        service: 'sts',
        target: SCOPE_ROLE_ARN,
        outcome: 'ok',
        signedWith: { accessKeyId: OWN_ACCESS_KEY },
      }),
    ]);
    expect(rig.endpoint.issuedCredentials()).toEqual([
      expect.objectContaining({ roleArn: SCOPE_ROLE_ARN, roleSessionName: 'autoheal-redrive' }),
    ]);
  });

  it("sweeps machines #600 to #999 with the scope role's credentials and the rest with the function's own, assuming the role once", async () => {
    // Prepare: both failures' events were lost
    const { file, environment } = stagedConfig(names, true);
    const config = readAtInit<SweeperHandlerConfig>(file, environment);
    rig = await startRedriveRig({ environments: 1, config, scopeRoles: SCOPE_ROLES });
    const [onScopeRole] = rig.seedFailures(1, {
      machine: LAST_LISTED,
      stoppedAgoMs: STOPPED_AGO_MS,
    });
    const [onOwnRole] = rig.seedFailures(1, { machine: names[0], stoppedAgoMs: STOPPED_AGO_MS });
    const sweeper = rigSweeper(rig, config, {
      simulatedClock: true,
      invocationMs: 900_000,
      scopeRoles: SCOPE_ROLES,
    });
    clients.push(sweeper);

    // Act
    const summary = await sweeper.sweep();
    await rig.drain(15_000);

    // Assess
    expect(summary).toMatchObject({ enqueued: 2, truncated: false, failed: 0 });
    expect(rig.tally([onScopeRole, onOwnRole])).toMatchObject({ redriven: 2, duplicates: 0 });
    const listed = signers('ListExecutions');
    const expected = names.map((name, i) => ({
      target: machineArnOf(name),
      signedBy: i >= FIRST_ON_SCOPE_ROLE ? SCOPE_ROLE_ARN : 'function',
    }));
    expect(new Set(listed.map((call) => JSON.stringify(call)))).toEqual(
      new Set(expected.map((call) => JSON.stringify(call))),
    );
    // One AssumeRole served the sweeper's 400 calls of the role (and one the redrive handler's)
    const issued = rig.endpoint.issuedCredentials();
    expect(issued.filter((c) => c.roleSessionName === 'autoheal-redrive-sweeper')).toEqual([
      expect.objectContaining({ roleArn: SCOPE_ROLE_ARN }),
    ]);
    expect(issued).toHaveLength(2);
  });
});
