/**
 * The storm brake inside the redrive handler, against DynamoDB Local: the
 * breaker state, signals and held failures live in a healing state table, the
 * idempotency records in an idempotency table, and several execution
 * environments (each with its own DynamoDB client and breaker cache) handle
 * the same machine's events at once. Step Functions, SNS and SQS are mocked.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import type { BreakerOptions } from '../../lambda/redrive/breaker/breaker-policy';
import { type BreakerStore, createBreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import { createRedriveHandler } from '../../lambda/redrive/redrive-processor';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { boundByDeadline } from '../../lambda/shared/aws-call';
import { breakerOptionsByArn } from '../../lambda/shared/config/breaker-config';
import type { RedriveHandlerConfig } from '../../lambda/shared/config/redrive-config';
import {
  IDEMPOTENCY_TABLE,
  MESSAGE_ATTRIBUTES,
  REDRIVE_SERVICE_NAME,
} from '../../lambda/shared/contract';
import { RetryableError } from '../../lambda/shared/errors';
import { notices, snsMock, sqsMock } from '../support/aws-mocks';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import {
  ACCOUNT,
  bufferedHealer,
  MINUTE_MS,
  REGION,
  STATES_ARN_PREFIX,
} from '../support/lambda-env';
import { liveSinceFor } from '../support/live-since';
import { captureLogs } from '../support/logs';
import type { CountedMetric } from '../support/metrics';
import {
  DLQ_URL,
  NOW,
  resetRedriveMocks,
  sfnMock,
  WORK_QUEUE_URL,
} from '../support/redrive-harness';
import { createStateTable, type StateTable } from '../support/state-table';

// Concurrent signals contend for one breaker item (transaction conflicts are retried with back-off).
jest.setTimeout(30_000);

const BRAKED = 'orders-fulfilment';
const OBSERVED = 'orders-observed';
const UNBRAKED = 'orders-unbraked';
/** A braked machine whose downstream is fine. */
const HEALTHY = 'orders-billing';
const DOWNSTREAM_ERROR = 'Downstream.Unavailable';

/** Small thresholds, so a handful of events opens a breaker. */
const BREAKER: BreakerOptions = {
  enabled: true,
  windowMinutes: 10,
  minRelapses: 4,
  relapseRatio: 0.8,
  cooldownMinutes: 5,
  cooldownFactor: 2,
  maxCooldownMinutes: 60,
  probes: 2,
};
const COOLDOWN_OVER = NOW + 6 * MINUTE_MS;

/** The config section with the breaker options on top (the synth-side schema is the infra's). */
function withBreaker(
  raw: Record<string, unknown>,
  breaker: Partial<BreakerOptions>,
  overrides: Record<string, Partial<BreakerOptions>> = {},
): RedriveHandlerConfig {
  const parsed = parseRedriveConfig(raw);
  const merged = { ...parsed.overrides } as Record<string, Record<string, unknown>>;
  for (const [name, options] of Object.entries(overrides)) {
    merged[name] = { ...merged[name], breaker: options };
  }
  return { ...parsed, breaker, overrides: merged } as unknown as RedriveHandlerConfig;
}

const config = withBreaker(
  {
    stateMachineNamePrefixes: ['orders-'],
    delay: { jitterRatio: 0 },
    overrides: { [OBSERVED]: { observeOnly: true } },
  },
  BREAKER,
  { [UNBRAKED]: { enabled: false } },
);

const machineArn = (machine: string) =>
  `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`;

interface Change {
  readonly executionArn: string;
  readonly body: string;
}

/** A status-change event of `machine` that happened at `stoppedAt`. */
function statusChange(
  machine: string,
  stoppedAt: number,
  detail: Record<string, unknown>,
  executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:order-${randomUUID()}`,
): Change {
  const event = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: new Date(stoppedAt).toISOString(),
    region: REGION,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: machineArn(machine),
      name: executionArn.split(':').at(-1),
      status: 'FAILED',
      startDate: stoppedAt - MINUTE_MS,
      stopDate: stoppedAt,
      input: '{"orderId":"o-1001"}',
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      redriveCount: 0,
      redriveDate: null,
      redriveStatus: 'REDRIVABLE',
      redriveStatusReason: null,
      error: DOWNSTREAM_ERROR,
      cause: 'the downstream said: secret-order-data',
      ...detail,
    },
  };
  return { executionArn, body: JSON.stringify(event) };
}

/** A redriven execution that failed again half a minute before `at` (its next redrive is deferred). */
const relapse = (machine: string, at: number, redriveCount = 1) =>
  statusChange(machine, at - MINUTE_MS / 2, { redriveCount });
/** A redriven execution that succeeded half a minute before `at`. */
const recovery = (machine: string, at: number) =>
  statusChange(machine, at - MINUTE_MS / 2, {
    status: 'SUCCEEDED',
    redriveCount: 1,
    error: null,
    cause: null,
  });
/** A first failure whose redrive is due at `at` (it stopped 5 minutes before). */
const dueFailure = (machine: string, at: number) =>
  statusChange(machine, at - 5 * MINUTE_MS, { redriveCount: 0 });

let idempotency: IdempotencyTable;
let state: StateTable;
const clients: DynamoDBClient[] = [];
/** What every environment's clock reads (epoch ms): tests move it on as time would. */
let clock = NOW;

beforeEach(async () => {
  clock = NOW;
  resetRedriveMocks();
  idempotency = await createIdempotencyTable();
  state = await createStateTable();
});

afterEach(async () => {
  jest.restoreAllMocks();
  for (const client of clients.splice(0)) client.destroy();
  await idempotency.dispose();
  await state.dispose();
});

interface Environment {
  readonly invoke: (...records: SQSRecord[]) => ReturnType<ReturnType<typeof createRedriveHandler>>;
  readonly counted: CountedMetric[];
  readonly store: BreakerStore;
  /** DynamoDB calls this environment made, by command. */
  readonly dynamoDbCalls: Record<string, number>;
}

/**
 * One Lambda execution environment of the redrive handler on the shared
 * {@link clock}: its own DynamoDB client (counted), idempotency persistence
 * layer and breaker store with its own cache (5 s, as deployed).
 * `braked: false` builds it without a store.
 */
function environment(
  options: {
    braked?: boolean;
    logger?: Logger;
    /** Stands in for the store the handler uses (fault injection). */
    storeAs?: (store: BreakerStore) => BreakerStore;
    /** Role ids of the Autoheal senders (the sender check). @default none: the check is off */
    autohealRoleIds?: readonly string[];
  } = {},
): Environment {
  const dynamodb = boundByDeadline(new DynamoDBClient({}));
  clients.push(dynamodb);
  const dynamoDbCalls: Record<string, number> = {};
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      dynamoDbCalls[command] = (dynamoDbCalls[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countDynamoDbCalls' },
  );
  const { deps, counted } = bufferedHealer(idempotency, {
    serviceName: REDRIVE_SERVICE_NAME,
    workQueueUrl: WORK_QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    logger: options.logger,
    now: () => clock,
  });
  const store = createBreakerStore({
    dynamodb,
    tableName: state.tableName,
    optionsFor: breakerOptionsByArn(config),
  });
  const handler = createRedriveHandler({
    ...deps,
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: idempotency.tableName,
      keyAttr: IDEMPOTENCY_TABLE.partitionKey,
      expiryAttr: IDEMPOTENCY_TABLE.timeToLive,
      awsSdkV3Client: dynamodb,
    }),
    config,
    sfn: boundByDeadline(new SFNClient({})),
    statesArnPrefix: STATES_ARN_PREFIX,
    liveSince: liveSinceFor(config),
    autohealRoleIds: options.autohealRoleIds,
    breakerStore: options.braked === false ? undefined : (options.storeAs?.(store) ?? store),
  });
  return {
    invoke: (...records) => handler(sqsEvent(...records), lambdaContext()),
    counted,
    store,
    dynamoDbCalls,
  };
}

/** `count` environments. */
const environments = (count: number) => Array.from({ length: count }, () => environment());

/**
 * Delivers every change `copies` times, each copy to another environment, all
 * environments at once (one batch each); resolves when every batch is done.
 */
async function deliverConcurrently(
  envs: readonly Environment[],
  changes: readonly Change[],
  copies = 1,
  attributes: Record<string, string> = {},
) {
  const batches: SQSRecord[][] = envs.map(() => []);
  changes.forEach((change, i) => {
    for (let copy = 0; copy < copies; copy++) {
      batches[(i + copy) % envs.length].push(
        sqsRecord(change.body, { messageAttributes: attributes }),
      );
    }
  });
  const results = await Promise.all(
    envs.map((env, i) => (batches[i].length ? env.invoke(...batches[i]) : undefined)),
  );
  for (const result of results)
    expect(result ?? { batchItemFailures: [] }).toEqual({
      batchItemFailures: [],
    });
}

const countsOf = (envs: readonly Environment[], name: string) =>
  envs.flatMap((env) => env.counted).filter((metric) => metric.name === name);

const noticesOf = (kind: string) => notices().filter((notice) => notice.body.kind === kind);

/** Opens the braked machine's breaker through the handler: enough relapses, then forgets the calls. */
async function openBreaker(machine = BRAKED) {
  const env = environment();
  for (let i = 0; i < BREAKER.minRelapses; i++) {
    await env.invoke(sqsRecord(relapse(machine, clock).body));
  }
  const view = await env.store.read(machineArn(machine), clock, { fresh: true });
  expect(view.state).toBe('open');
  sfnMock.resetHistory();
  snsMock.resetHistory();
  return view;
}

/** Opens the breaker, then moves it to half-open as the keeper does once the cool-down is over. */
async function halfOpenBreaker(machine = BRAKED) {
  const opened = await openBreaker(machine);
  clock = COOLDOWN_OVER;
  const keeper = environment();
  expect(await keeper.store.transition(machineArn(machine), opened, 'half-open', clock)).toBe(true);
}

/** The breaker as it is stored now. */
const breakerOf = async (machine: string) =>
  environment().store.read(machineArn(machine), clock, { fresh: true });

describe('storm brake in the redrive handler (DynamoDB Local, concurrent environments)', () => {
  it('opens the breaker once, with one notice, when relapses reach the threshold in several environments at once', async () => {
    // Prepare
    const envs = environments(4);
    const wave = () =>
      Array.from({ length: BREAKER.minRelapses + 2 }, () => relapse(BRAKED, clock));
    const first = wave();
    const second = wave();

    // Act: every relapse arrives twice (SQS at least once), each copy in another environment;
    // the second wave comes after the environments' breaker caches expired
    await deliverConcurrently(envs, first, 2);
    clock += 6_000;
    await deliverConcurrently(envs, second, 2);
    const relapses = [...first, ...second];

    // Assess
    expect((await breakerOf(BRAKED)).state).toBe('open');
    const opened = noticesOf('breaker-opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].body).toMatchObject({
      stateMachineArn: machineArn(BRAKED),
      windowMinutes: BREAKER.windowMinutes,
      topErrors: expect.stringContaining(DOWNSTREAM_ERROR),
    });
    expect(opened[0].body.relapses).toBeGreaterThanOrEqual(BREAKER.minRelapses);
    expect(JSON.stringify(opened[0].body)).not.toMatch(/secret-order-data|o-1001/);
    expect(countsOf(envs, 'BreakerOpened')).toHaveLength(1);
    // Each failure counted once, however often and wherever it arrived.
    expect(countsOf(envs, 'BreakerRelapse')).toHaveLength(relapses.length);
    expect(sfnMock).not.toHaveReceivedCommand(RedriveExecutionCommand);
  });

  it('holds the failures that would be redriven while open: no RedriveExecution, no attempt counted, each held once', async () => {
    // Prepare
    await openBreaker();
    const envs = environments(3);
    const failures = Array.from({ length: 5 }, () => dueFailure(BRAKED, clock));

    // Act
    await deliverConcurrently(envs, failures, 2);

    // Assess
    expect(sfnMock).not.toHaveReceivedCommand(RedriveExecutionCommand);
    const held = await envs[0].store.oldestHeld(machineArn(BRAKED), 100);
    expect(held.map((failure) => failure.executionArn).sort()).toEqual(
      failures.map((failure) => failure.executionArn).sort(),
    );
    expect(held.every((failure) => failure.redriveCount === 0)).toBe(true);
    // No idempotency record: once released, each is redriven as a first attempt.
    expect(await idempotency.items()).toEqual([]);
    expect(countsOf(envs, 'HeldByBreaker').length).toBeGreaterThanOrEqual(failures.length);
    expect(countsOf(envs, 'Redriven')).toEqual([]);
    expect(noticesOf('breaker-opened')).toEqual([]);
  });

  it.each([
    { message: 'a probe', attributes: { [MESSAGE_ATTRIBUTES.probe]: 'true' }, redriven: true },
    {
      message: 'a failure that is not a probe',
      attributes: {} as Record<string, string>,
      redriven: false,
    },
  ])('in half-open, $message is redriven: $redriven', async ({ attributes, redriven }) => {
    // Prepare
    await halfOpenBreaker();
    const envs = environments(2);
    const failure = dueFailure(BRAKED, clock);

    // Act
    await deliverConcurrently(envs, [failure], 1, attributes);

    // Assess
    const held = await envs[0].store.oldestHeld(machineArn(BRAKED), 100);
    if (redriven) {
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
      expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
        executionArn: failure.executionArn,
      });
      expect(countsOf(envs, 'ProbeRedrive')).toHaveLength(1);
      expect(held).toEqual([]);
    } else {
      expect(sfnMock).not.toHaveReceivedCommand(RedriveExecutionCommand);
      expect(held.map((h) => h.executionArn)).toEqual([failure.executionArn]);
    }
  });

  it('does not close on a success that claims to come from Autoheal but was sent by someone else', async () => {
    // Prepare: the message says the sweeper sent it; SQS says another principal did
    await halfOpenBreaker();
    const env = environment({ autohealRoleIds: ['AROAAUTOHEALSWEEPER'] });
    const forged = sqsRecord(recovery(BRAKED, clock).body, {
      messageAttributes: { [MESSAGE_ATTRIBUTES.origin]: 'sweeper' },
    });

    // Act
    await env.invoke(forged);

    // Assess
    expect((await breakerOf(BRAKED)).state).toBe('half-open');
    expect(noticesOf('breaker-closed')).toEqual([]);
  });

  it('closes the breaker with one notice when probes recover, and redrives again', async () => {
    // Prepare
    await halfOpenBreaker();
    const envs = environments(3);
    const recoveries = [recovery(BRAKED, clock), recovery(BRAKED, clock)];

    // Act
    await deliverConcurrently(envs, recoveries, 2);
    const afterwards = environment();
    const failure = dueFailure(BRAKED, clock);
    await afterwards.invoke(sqsRecord(failure.body));

    // Assess
    expect((await breakerOf(BRAKED)).state).toBe('closed');
    expect(noticesOf('breaker-closed')).toHaveLength(1);
    expect(countsOf(envs, 'BreakerClosed')).toHaveLength(1);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: failure.executionArn,
    });
  });

  it('opens the breaker again, with a longer cool-down, when a probe relapses', async () => {
    // Prepare
    await halfOpenBreaker();
    const envs = environments(2);

    // Act: the probe's redrive failed again (its second relapse)
    await deliverConcurrently(envs, [relapse(BRAKED, clock, 2)], 2);

    // Assess
    const view = await breakerOf(BRAKED);
    expect(view.state).toBe('open');
    expect(view.openings).toBe(2);
    const opened = noticesOf('breaker-opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].body).toMatchObject({
      reason: 'probe-relapsed',
      cooldownMinutes: BREAKER.cooldownMinutes * BREAKER.cooldownFactor,
    });
  });

  it('holds failures under a forced open breaker, however many redrives recover', async () => {
    // Prepare
    const operator = environment();
    await operator.store.force(machineArn(BRAKED), 'open', 'ops@example.com', 'maintenance', clock);
    const envs = environments(3);
    const recoveries = Array.from({ length: 6 }, () => recovery(BRAKED, clock));
    const failure = dueFailure(BRAKED, clock);

    // Act
    await deliverConcurrently(envs, recoveries);
    await deliverConcurrently(envs, [failure]);

    // Assess
    const view = await breakerOf(BRAKED);
    expect(view.forced).toBe('open');
    expect(sfnMock).not.toHaveReceivedCommand(RedriveExecutionCommand);
    const held = await operator.store.oldestHeld(machineArn(BRAKED), 100);
    expect(held.map((h) => h.executionArn)).toEqual([failure.executionArn]);
    expect(notices()).toEqual([]);
  });

  it('redrives under a forced closed breaker, however many redrives relapse', async () => {
    // Prepare
    const operator = environment();
    await operator.store.force(
      machineArn(BRAKED),
      'closed',
      'ops@example.com',
      'known flaky',
      clock,
    );
    const envs = environments(3);
    const relapses = Array.from({ length: 2 * BREAKER.minRelapses }, () => relapse(BRAKED, clock));
    const failure = dueFailure(BRAKED, clock);

    // Act
    await deliverConcurrently(envs, relapses);
    await deliverConcurrently(envs, [failure]);

    // Assess
    expect((await breakerOf(BRAKED)).forced).toBe('closed');
    expect(noticesOf('breaker-opened')).toEqual([]);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: failure.executionArn,
    });
  });

  it('computes and reports the breaker of an observe-only machine but never holds', async () => {
    // Prepare
    const envs = environments(3);
    const wave = () => Array.from({ length: BREAKER.minRelapses }, () => relapse(OBSERVED, clock));

    // Act: two waves of relapses, the second after the breaker caches expired; then a due failure
    await deliverConcurrently(envs, wave(), 2);
    clock += 6_000;
    await deliverConcurrently(envs, wave(), 2);
    // Past the breaker caches again: an environment that read the breaker during the second wave,
    // before it opened, may see it closed for up to 5 s (the cache's documented lag).
    clock += 6_000;
    const failure = dueFailure(OBSERVED, clock);
    await deliverConcurrently(envs, [failure]);

    // Assess
    expect((await breakerOf(OBSERVED)).state).toBe('open');
    const opened = noticesOf('breaker-opened');
    expect(opened).toHaveLength(1);
    expect(opened[0].Subject).toContain('observe only');
    expect(opened[0].body.observeOnly).toBe(true);
    expect(await envs[0].store.oldestHeld(machineArn(OBSERVED), 100)).toEqual([]);
    expect(countsOf(envs, 'HeldByBreaker')).toEqual([
      { name: 'HeldByBreaker', reason: 'observe-only' },
    ]);
    expect(countsOf(envs, 'ObservedRedrive')).toHaveLength(1);
    expect(sfnMock).not.toHaveReceivedCommand(RedriveExecutionCommand);
  });

  it('leaves a machine whose breaker is disabled alone: no state written, nothing held', async () => {
    // Prepare
    const envs = environments(2);
    const relapses = Array.from({ length: 2 * BREAKER.minRelapses }, () =>
      relapse(UNBRAKED, clock),
    );
    const failure = dueFailure(UNBRAKED, clock);

    // Act
    await deliverConcurrently(envs, relapses);
    await deliverConcurrently(envs, [failure]);

    // Assess
    expect(await state.items()).toEqual([]);
    expect(notices()).toEqual([]);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: failure.executionArn,
    });
  });
});

describe('a signal that cannot be recorded', () => {
  it.each([
    { receive: 1, outcome: 'is retried by SQS, to be counted then', retried: true },
    { receive: 2, outcome: 'no longer stops the failure from being handled', retried: false },
  ])('on receive $receive $outcome', async ({ receive, retried }) => {
    // Prepare: the breaker item is too contended to count the relapse
    const env = environment({
      storeAs: (store) => ({
        ...store,
        recordSignal: () =>
          Promise.reject(new RetryableError('Could not count the relapse after 6 attempts')),
      }),
    });
    const change = relapse(BRAKED, clock);
    const record = sqsRecord(change.body, { receiveCount: receive });

    // Act
    const result = await env.invoke(record);

    // Assess
    if (retried) {
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
      expect(sqsMock).not.toHaveReceivedCommand(SendMessageCommand);
    } else {
      expect(result).toEqual({ batchItemFailures: [] });
      // Deferred until its next redrive is due, as without the breaker.
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(env.counted).toContainEqual({ name: 'BreakerSignalLost' });
    }
  });
});

describe('breaker state in the logs', () => {
  it('logs the breaker state with each decision', async () => {
    // Prepare
    await openBreaker(BRAKED);
    const env = environment({
      logger: new Logger({ serviceName: REDRIVE_SERVICE_NAME, logLevel: 'INFO' }),
    });
    const held = dueFailure(BRAKED, clock);
    const deferred = relapse(BRAKED, clock);
    const redriven = dueFailure(HEALTHY, clock);
    const captured = captureLogs();

    // Act
    await env.invoke(sqsRecord(held.body), sqsRecord(deferred.body), sqsRecord(redriven.body));
    captured.restore();

    // Assess
    // One JSON document per log entry (pretty-printed in POWERTOOLS_DEV).
    const entries = captured
      .lines()
      .filter((entry) => entry.trimStart().startsWith('{'))
      .map((entry) => JSON.parse(entry) as Record<string, unknown>);
    const about = (change: Change) =>
      entries
        .filter((entry) => entry.executionArn === change.executionArn && 'decision' in entry)
        .map(({ decision, breaker }) => ({ decision, breaker }));
    expect(about(held)).toEqual([{ decision: 'hold', breaker: 'open' }]);
    expect(about(deferred)).toEqual([{ decision: 'defer', breaker: 'open' }]);
    expect(about(redriven)).toEqual([{ decision: 'redrive', breaker: 'closed' }]);
  });
});

describe('cost of a closed breaker (DynamoDB calls per redrive)', () => {
  const REDRIVES = 20;

  /** DynamoDB calls one warm environment makes for `REDRIVES` due failures, 5 per batch. */
  async function callsFor(braked: boolean) {
    const env = environment({ braked });
    const failures = Array.from({ length: REDRIVES }, () => dueFailure(BRAKED, clock));
    for (let i = 0; i < failures.length; i += 5) {
      await env.invoke(...failures.slice(i, i + 5).map((change) => sqsRecord(change.body)));
    }
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, REDRIVES);
    sfnMock.resetHistory();
    return env.dynamoDbCalls;
  }

  it('adds one cached breaker read per machine and environment, not a call per redrive', async () => {
    // Act
    const without = await callsFor(false);
    const withBreaker = await callsFor(true);

    // Assess
    const total = (calls: Record<string, number>) =>
      Object.values(calls).reduce((sum, n) => sum + n, 0);
    process.stdout.write(
      `closed breaker, ${REDRIVES} redrives in one environment: ${total(withBreaker)} DynamoDB calls ` +
        `(${JSON.stringify(withBreaker)}), without the breaker ${total(without)} (${JSON.stringify(without)})\n`,
    );
    expect(total(withBreaker) - total(without)).toBeLessThanOrEqual(1);
  });

  it('records a relapse with one call', async () => {
    // Prepare
    const env = environment();
    await env.invoke(sqsRecord(relapse(BRAKED, clock).body));
    const before = { ...env.dynamoDbCalls };
    const withoutBreaker = environment({ braked: false });
    await withoutBreaker.invoke(sqsRecord(relapse(BRAKED, clock).body));

    // Act
    await env.invoke(sqsRecord(relapse(BRAKED, clock).body));

    // Assess
    const made = Object.entries(env.dynamoDbCalls).reduce(
      (sum, [command, n]) => sum + n - (before[command] ?? 0),
      0,
    );
    const baseline = Object.values(withoutBreaker.dynamoDbCalls).reduce((sum, n) => sum + n, 0);
    process.stdout.write(`relapse: ${made} DynamoDB calls with the breaker, ${baseline} without\n`);
    expect(made - baseline).toBe(1);
  });
});
