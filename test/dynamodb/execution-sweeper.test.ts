/**
 * The sweeper end to end, minus AWS: it reads the redrive path's idempotency
 * records in DynamoDB Local; Step Functions and SQS are mocked (ListExecutions
 * and ListStateMachines answered from an in-memory set of executions); the
 * clock only moves when the sweeper sleeps, so pacing and the deadline are
 * exact. The key agreement with the redrive handler is proven with records the
 * real redrive handler wrote.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  type ExecutionStatus,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  SFNServiceException,
  type StateMachineListItem,
} from '@aws-sdk/client-sfn';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import 'aws-sdk-client-mock-jest';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  createExecutionSweeper,
  SweepIncompleteError,
  type SweepSummary,
} from '../../lambda/redrive/execution-sweeper';
import { type LiveSinceDocument, parseLiveSinceDocument } from '../../lambda/redrive/live-healing';
import {
  type ClockResponse,
  createLiveHealingClock,
} from '../../lambda/redrive/live-healing-clock';
import { sweptStatusChange } from '../../lambda/redrive/sweep-plan';
import { parseRedriveConfig, type RedriveConfig } from '../../lambda/shared/autoheal-config';
import {
  IDEMPOTENCY_TABLE,
  idempotencyKeyPrefixes,
  LIVE_HEALING_CLOCK,
  MESSAGE_ATTRIBUTES,
  SWEEPER_SERVICE_NAME,
} from '../../lambda/shared/contract';
import { snsMock, sqsMock, stringAttribute } from '../support/aws-mocks';
import { expectedToken } from '../support/client-token';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import { ACCOUNT, HOUR_MS, MINUTE_MS, powertools, REGION } from '../support/lambda-env';
import { clockRequest, liveSinceFor } from '../support/live-since';
import { captureLogs } from '../support/logs';
import {
  NOW,
  redriveHandler,
  resetRedriveMocks,
  sfnMock,
  WORK_QUEUE_URL,
} from '../support/redrive-harness';

// No jitter: the delay before attempt n is exactly 60 s × 4^n.
const config = parseRedriveConfig({
  stateMachineArns: [machineArn('payments')],
  stateMachineNamePrefixes: ['orders-'],
  delay: { jitterRatio: 0 },
  overrides: {
    'orders-observed': { observeOnly: true },
    'orders-returns': { statuses: ['FAILED', 'ABORTED'] },
  },
});
/** Scoped by ARN only: no ListStateMachines. */
const arnConfig = (sweeper: Record<string, unknown> = {}, machines = ['payments']) =>
  parseRedriveConfig({
    stateMachineArns: machines.map(machineArn),
    delay: { jitterRatio: 0 },
    sweeper,
  });

function machineArn(name: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
}

interface FailureOptions {
  readonly machine?: string;
  readonly status?: ExecutionStatus;
  /** When it stopped, before NOW. @default 1 hour */
  readonly stoppedAgo?: number;
  readonly redriveCount?: number;
}

/** An execution as ListExecutions lists it: by default FAILED an hour ago, never redriven. */
function failure({
  machine = 'orders-fulfilment',
  status = 'FAILED',
  stoppedAgo = HOUR_MS,
  redriveCount = 0,
}: FailureOptions = {}): ExecutionListItem {
  const name = `order-${randomUUID()}`;
  return {
    executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`,
    stateMachineArn: machineArn(machine),
    name,
    status,
    startDate: new Date(NOW - stoppedAgo - 2 * MINUTE_MS),
    stopDate: new Date(NOW - stoppedAgo),
    redriveCount,
  };
}

/** The Step Functions of the test account: its state machines and executions, served page by page. */
interface FakeStepFunctions {
  /** Clock times of the list calls, in order, with their names. */
  readonly calls: { readonly api: string; readonly at: number }[];
}

function fakeStepFunctions(
  executions: readonly ExecutionListItem[],
  options: {
    readonly machines?: readonly StateMachineListItem[];
    readonly pageSize?: number;
    readonly clock: Clock;
  },
): FakeStepFunctions {
  const calls: { api: string; at: number }[] = [];
  const pageSize = options.pageSize ?? 1000;
  const page = <T>(items: readonly T[], token: string | undefined, maxResults = 1000) => {
    const offset = Number(token ?? 0);
    const end = offset + Math.min(pageSize, maxResults);
    return {
      items: items.slice(offset, end),
      nextToken: end < items.length ? String(end) : undefined,
    };
  };
  sfnMock.on(ListExecutionsCommand).callsFake((input) => {
    calls.push({ api: 'ListExecutions', at: options.clock.now() - NOW });
    const matching = executions
      .filter((e) => e.stateMachineArn === input.stateMachineArn && e.status === input.statusFilter)
      .sort((a, b) => (b.startDate as Date).getTime() - (a.startDate as Date).getTime());
    const { items, nextToken } = page(matching, input.nextToken, input.maxResults);
    return { executions: items, nextToken };
  });
  sfnMock.on(ListStateMachinesCommand).callsFake((input) => {
    calls.push({ api: 'ListStateMachines', at: options.clock.now() - NOW });
    const { items, nextToken } = page(options.machines ?? [], input.nextToken, input.maxResults);
    return { stateMachines: items, nextToken };
  });
  return { calls };
}

function stateMachine(name: string, type: 'STANDARD' | 'EXPRESS' = 'STANDARD') {
  return {
    stateMachineArn: machineArn(name),
    name,
    type,
    creationDate: new Date(NOW - 90 * 24 * HOUR_MS),
  };
}

interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** A clock that moves only when the sweeper sleeps. */
function fakeClock(): Clock {
  let t = NOW;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
}

/** Every SendMessageBatch succeeds unless a test says otherwise. */
function acceptEveryBatch(): void {
  sqsMock.on(SendMessageBatchCommand).callsFake((input) => ({
    Successful: (input.Entries as SendMessageBatchRequestEntry[]).map((entry) => ({
      Id: entry.Id,
      MessageId: randomUUID(),
      MD5OfMessageBody: 'x',
    })),
    Failed: [],
  }));
}

/** The messages the sweeper sent, in order, with their bodies parsed. */
function sentMessages() {
  return sqsMock.commandCalls(SendMessageBatchCommand).flatMap(({ args: [command] }) =>
    (command.input.Entries ?? []).map((entry) => ({
      queueUrl: command.input.QueueUrl,
      entry,
      event: JSON.parse(entry.MessageBody ?? '') as ReturnType<typeof sweptStatusChange>,
    })),
  );
}

let table: IdempotencyTable;

beforeEach(async () => {
  resetRedriveMocks();
  acceptEveryBatch();
  table = await createIdempotencyTable();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await table.dispose();
});

interface SweeperOptions {
  readonly remainingMs?: number;
  readonly logger?: Logger;
  readonly persistenceStore?: DynamoDBPersistenceLayer;
  /** @default live since long ago */
  readonly liveSince?: LiveSinceDocument;
}

/** A sweeper of one execution environment on the mocks, this test's table and a fake clock. */
function buildSweeper(sweepConfig: RedriveConfig, clock: Clock, options: SweeperOptions = {}) {
  const { logger, metrics, counted } = powertools(SWEEPER_SERVICE_NAME, options.logger);
  const sweep = createExecutionSweeper({
    config: sweepConfig,
    sfn: new SFNClient({}),
    sqs: new SQSClient({}),
    persistenceStore: options.persistenceStore ?? table.persistenceLayer(),
    cursorTable: { dynamodb: table.client, tableName: table.tableName },
    workQueueUrl: WORK_QUEUE_URL,
    liveSince: options.liveSince ?? liveSinceFor(sweepConfig),
    logger,
    metrics,
    now: clock.now,
    sleep: clock.sleep,
  });
  const remainingMs = options.remainingMs ?? 5 * 60_000;
  const metricValues = () =>
    jest
      .mocked(metrics.addMetric)
      .mock.calls.map(([name, , value]) => [name, value] as [string, number]);
  return {
    /** One invocation: its deadline is `remainingMs` from the clock's now. */
    sweep: () => {
      const deadline = clock.now() + remainingMs;
      return sweep({ getRemainingTimeInMillis: () => deadline - clock.now() });
    },
    counted,
    metricValues,
  };
}

/** Drives the real redrive handler with a status-change event for `execution`, as the rule delivers it. */
async function handledByTheRedrivePath(execution: ExecutionListItem, redriveConfig: RedriveConfig) {
  const event = {
    ...sweptStatusChange(
      {
        executionArn: execution.executionArn as string,
        stateMachineArn: execution.stateMachineArn as string,
        name: execution.name as string,
        status: execution.status as string,
        startDate: (execution.startDate as Date).getTime(),
        stopDate: (execution.stopDate as Date).getTime(),
        redriveCount: execution.redriveCount ?? 0,
        redriveDate: undefined,
      },
      NOW,
    ),
    id: randomUUID(),
    source: 'aws.states',
  };
  const detail = { ...event.detail, redriveStatus: 'REDRIVABLE', error: 'States.TaskFailed' };
  const { handler } = redriveHandler(table, redriveConfig);
  const result = await handler(
    sqsEvent(sqsRecord(JSON.stringify({ ...event, detail }))),
    lambdaContext(),
  );
  expect(result).toEqual({ batchItemFailures: [] });
}

/** DescribeExecution tells the handler that `lost` failed, was never redriven and can be. */
function describesAsRedrivable(lost: ReturnType<typeof failure>): void {
  sfnMock.on(DescribeExecutionCommand).resolves({
    executionArn: lost.executionArn,
    stateMachineArn: lost.stateMachineArn,
    status: 'FAILED',
    startDate: lost.startDate,
    stopDate: lost.stopDate,
    redriveCount: 0,
    redriveStatus: 'REDRIVABLE',
    error: 'States.TaskFailed',
  });
}

describe('the sweeper', () => {
  it('enqueues each failure whose event never arrived, as a status-change event from the sweeper', async () => {
    // Prepare
    const clock = fakeClock();
    const lost = failure({ machine: 'payments', redriveCount: 1 });
    fakeStepFunctions([lost], { clock });
    const { sweep, metricValues } = buildSweeper(arnConfig(), clock);

    // Act
    const summary = await sweep();

    // Assess
    expect(summary).toEqual<SweepSummary>({
      stateMachines: 1,
      listed: 1,
      enqueued: 1,
      alreadyHandled: 0,
      notDue: 0,
      outOfScope: 0,
      beforeLiveHealing: 0,
      truncated: false,
      failed: 0,
      overlapped: false,
      passMinutes: 0,
    });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    const [message] = sentMessages();
    expect(message.queueUrl).toBe(WORK_QUEUE_URL);
    expect(message.entry).toEqual({
      Id: 'm0',
      MessageBody: expect.any(String),
      MessageAttributes: { [MESSAGE_ATTRIBUTES.origin]: stringAttribute('sweeper') },
    });
    expect(message.event).toEqual({
      version: '0',
      id: `sweep-${expectedToken(lost.executionArn as string, 1)}`,
      'detail-type': 'Step Functions Execution Status Change',
      source: 'autoheal.sweeper',
      account: ACCOUNT,
      time: new Date(NOW).toISOString(),
      region: REGION,
      resources: [lost.executionArn],
      detail: {
        executionArn: lost.executionArn,
        stateMachineArn: machineArn('payments'),
        name: lost.name,
        status: 'FAILED',
        startDate: (lost.startDate as Date).getTime(),
        stopDate: (lost.stopDate as Date).getTime(),
        redriveCount: 1,
        redriveDate: null,
      },
    });
    expect(sfnMock.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: machineArn('payments'), statusFilter: 'FAILED', maxResults: 1000 },
      { stateMachineArn: machineArn('payments'), statusFilter: 'TIMED_OUT', maxResults: 1000 },
    ]);
    expect(sfnMock).not.toHaveReceivedCommand(ListStateMachinesCommand);
    expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
    expect(sfnMock).not.toHaveReceivedCommand(RedriveExecutionCommand);
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(metricValues()).toEqual([
      ['SweepListed', 1],
      ['SweepEnqueued', 1],
      ['SweepAlreadyHandled', 0],
      ['SweepNotDue', 0],
      ['SweepBeforeLiveHealing', 0],
      ['SweepTruncated', 0],
      ['SweepFailed', 0],
      ['SweepOverlapped', 0],
      ['SweepPassMinutes', 0],
    ]);
  });

  it.each([
    { label: 'a redriven failure', machine: 'orders-fulfilment' },
    {
      label: 'a failure observed only (its key is marked #observe-only)',
      machine: 'orders-observed',
    },
  ])(
    'skips $label whose record the redrive handler wrote, and only that one',
    async ({ machine }) => {
      // Prepare
      const clock = fakeClock();
      const handled = failure({ machine });
      const lost = failure({ machine });
      await handledByTheRedrivePath(handled, config);
      expect(await table.items()).toHaveLength(1);
      resetRedriveMocks();
      acceptEveryBatch();
      const fake = fakeStepFunctions([handled, lost], {
        clock,
        machines: [stateMachine(machine)],
      });
      const { sweep } = buildSweeper(config, clock);

      // Act
      const summary = await sweep();

      // Assess
      expect(summary).toMatchObject({ listed: 2, enqueued: 1, alreadyHandled: 1, failed: 0 });
      expect(sentMessages().map((m) => m.event.detail.executionArn)).toEqual([lost.executionArn]);
      // The machine of the prefix, and the one scoped by ARN, each in FAILED and TIMED_OUT.
      expect(fake.calls.map((c) => c.api)).toEqual([
        'ListStateMachines',
        ...Array(4).fill('ListExecutions'),
      ]);
      expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
    },
  );

  it('feeds the redrive path: the swept message is described, then redriven once, and the next sweep skips it', async () => {
    // Prepare
    const clock = fakeClock();
    const lost = failure({ machine: 'payments' });
    fakeStepFunctions([lost], { clock });
    const redriveConfig = arnConfig();
    await buildSweeper(redriveConfig, clock).sweep();
    const [swept] = sentMessages();
    describesAsRedrivable(lost);
    const { handler } = redriveHandler(table, redriveConfig);

    // Act
    const result = await handler(
      sqsEvent(
        sqsRecord(swept.entry.MessageBody as string, {
          messageAttributes: { [MESSAGE_ATTRIBUTES.origin]: 'sweeper' },
        }),
      ),
      lambdaContext(),
    );
    sqsMock.resetHistory();
    const nextSweep = await buildSweeper(redriveConfig, clock).sweep();

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: lost.executionArn,
    });
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: lost.executionArn,
      clientToken: expectedToken(lost.executionArn as string, 0),
    });
    expect(nextSweep).toMatchObject({ listed: 1, enqueued: 0, alreadyHandled: 1 });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  describe('on the first deploy, and after the scope widens or observe-only is switched off', () => {
    /** The document the live-healing clock returns for `deploys` (configs deployed in turn at their times). */
    async function deployed(...deploys: [RedriveConfig, number][]): Promise<LiveSinceDocument> {
      let response: ClockResponse | undefined;
      for (const [[deployConfig, at], i] of deploys.map((d, n) => [d, n] as const)) {
        const clock = createLiveHealingClock({
          dynamodb: table.client,
          tableName: table.tableName,
          now: () => at,
        });
        response = await clock(clockRequest(i === 0 ? 'Create' : 'Update', deployConfig));
      }
      return parseLiveSinceDocument(response?.Data?.[LIVE_HEALING_CLOCK.attribute] ?? '');
    }

    it('enqueues none of the day-old failures it finds on the first sweep after the first deploy', async () => {
      // Prepare: failures from 23 hours to 30 minutes before a deploy 5 minutes ago
      const clock = fakeClock();
      const sweepConfig = arnConfig();
      const old = [23 * HOUR_MS, 6 * HOUR_MS, 30 * MINUTE_MS + 5 * MINUTE_MS].map((stoppedAgo) =>
        failure({ machine: 'payments', stoppedAgo }),
      );
      fakeStepFunctions(old, { clock });
      const liveSince = await deployed([sweepConfig, NOW - 5 * MINUTE_MS]);
      const { sweep, metricValues } = buildSweeper(sweepConfig, clock, { liveSince });

      // Act
      const summary = await sweep();

      // Assess
      expect(summary).toMatchObject({ listed: 3, enqueued: 0, beforeLiveHealing: 3 });
      expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
      expect(metricValues()).toContainEqual(['SweepBeforeLiveHealing', 3]);
    });

    it('enqueues a failure that stopped after live healing began', async () => {
      // Prepare: deployed an hour ago; one failure before it, one after
      const clock = fakeClock();
      const sweepConfig = arnConfig();
      const before = failure({ machine: 'payments', stoppedAgo: HOUR_MS + MINUTE_MS });
      const after = failure({ machine: 'payments', stoppedAgo: HOUR_MS - MINUTE_MS });
      fakeStepFunctions([before, after], { clock });
      const liveSince = await deployed([sweepConfig, NOW - HOUR_MS]);
      const { sweep } = buildSweeper(sweepConfig, clock, { liveSince });

      // Act
      const summary = await sweep();

      // Assess
      expect(summary).toMatchObject({ listed: 2, enqueued: 1, beforeLiveHealing: 1 });
      expect(sentMessages().map((m) => m.event.detail.executionArn)).toEqual([after.executionArn]);
    });

    it.each([
      {
        label: 'a state machine added to the scope',
        first: arnConfig({}, ['payments']),
        second: arnConfig({}, ['payments', 'invoices']),
      },
      {
        label: 'observe-only switched off',
        first: parseRedriveConfig({
          stateMachineArns: [machineArn('invoices')],
          observeOnly: true,
        }),
        second: parseRedriveConfig({
          stateMachineArns: [machineArn('invoices')],
          delay: { jitterRatio: 0 },
        }),
      },
    ])('enqueues none of the failures from before $label', async ({ first, second }) => {
      // Prepare: deployed two days ago, changed 10 minutes ago
      const clock = fakeClock();
      const older = failure({ machine: 'invoices', stoppedAgo: 5 * HOUR_MS });
      fakeStepFunctions([older], { clock });
      const liveSince = await deployed([first, NOW - 48 * HOUR_MS], [second, NOW - 10 * MINUTE_MS]);
      const { sweep } = buildSweeper(second, clock, { liveSince });

      // Act
      const summary = await sweep();

      // Assess
      expect(summary).toMatchObject({ listed: 1, enqueued: 0, beforeLiveHealing: 1 });
      expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
    });

    it.each([
      {
        label: 'ABORTED added to statuses',
        first: parseRedriveConfig({
          stateMachineArns: [machineArn('invoices')],
          delay: { jitterRatio: 0 },
        }),
        second: parseRedriveConfig({
          stateMachineArns: [machineArn('invoices')],
          delay: { jitterRatio: 0 },
          statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        }),
      },
      {
        label: "ABORTED added to an override's statuses",
        first: parseRedriveConfig({
          stateMachineArns: [machineArn('invoices')],
          delay: { jitterRatio: 0 },
        }),
        second: parseRedriveConfig({
          stateMachineArns: [machineArn('invoices')],
          delay: { jitterRatio: 0 },
          overrides: { invoices: { statuses: ['FAILED', 'ABORTED'] } },
        }),
      },
    ])(
      'enqueues none of the failures of a status from before $label; enqueues one after',
      async ({ first, second }) => {
        // Prepare: deployed two days ago, ABORTED added two hours ago; an execution
        // aborted (on purpose, perhaps) before that, one after, and a FAILED one before
        const clock = fakeClock();
        const abortedBefore = failure({
          machine: 'invoices',
          stoppedAgo: 5 * HOUR_MS,
          status: 'ABORTED',
        });
        const abortedAfter = failure({
          machine: 'invoices',
          stoppedAgo: HOUR_MS,
          status: 'ABORTED',
        });
        const failedBefore = failure({ machine: 'invoices', stoppedAgo: 5 * HOUR_MS });
        fakeStepFunctions([abortedBefore, abortedAfter, failedBefore], { clock });
        const liveSince = await deployed([first, NOW - 48 * HOUR_MS], [second, NOW - 2 * HOUR_MS]);
        const { sweep } = buildSweeper(second, clock, { liveSince });

        // Act
        const summary = await sweep();

        // Assess
        expect(summary).toMatchObject({ listed: 3, enqueued: 2, beforeLiveHealing: 1 });
        expect(
          sentMessages()
            .map((m) => m.event.detail.executionArn)
            .sort(),
        ).toEqual([abortedAfter.executionArn, failedBefore.executionArn].sort());
      },
    );
  });

  it.each(['orders-eu.v2', 'orders-a@b', 'orders-Bestellungen-ü'])(
    'enqueues a lost failure of %s (in scope by prefix) once; the handler redrives it, and the next sweep leaves it',
    async (machine) => {
      // Prepare
      const clock = fakeClock();
      const lost = failure({ machine });
      fakeStepFunctions([lost], { clock, machines: [stateMachine(machine)] });
      await buildSweeper(config, clock).sweep();
      const swept = sentMessages();
      describesAsRedrivable(lost);
      const { handler } = redriveHandler(table, config);

      // Act
      const result = await handler(
        sqsEvent(sqsRecord(swept[0].entry.MessageBody as string)),
        lambdaContext(),
      );
      const parkedOrDeferred = sqsMock.commandCalls(SendMessageCommand);
      sqsMock.resetHistory();
      const nextSweep = await buildSweeper(config, clock).sweep();

      // Assess
      expect(swept).toHaveLength(1);
      expect(swept[0].event.detail.executionArn).toBe(lost.executionArn);
      expect(result).toEqual({ batchItemFailures: [] });
      expect(parkedOrDeferred).toEqual([]);
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
      expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
        executionArn: lost.executionArn,
        clientToken: expectedToken(lost.executionArn as string, 0),
      });
      expect(nextSweep).toMatchObject({ enqueued: 0, alreadyHandled: 1 });
      expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
    },
  );

  it('leaves a failure whose redrive is not due (plus the grace) to its event', async () => {
    // Prepare: the second attempt is due 240 s after the stop, plus 15 minutes of grace
    const clock = fakeClock();
    const recent = failure({ machine: 'payments', redriveCount: 1, stoppedAgo: 10 * MINUTE_MS });
    const due = failure({ machine: 'payments', redriveCount: 1, stoppedAgo: 20 * MINUTE_MS });
    fakeStepFunctions([recent, due], { clock });
    const { sweep } = buildSweeper(arnConfig(), clock);

    // Act
    const summary = await sweep();

    // Assess
    expect(summary).toMatchObject({ listed: 2, enqueued: 1, notDue: 1 });
    expect(sentMessages().map((m) => m.event.detail.executionArn)).toEqual([due.executionArn]);
  });

  it('stops listing a machine at the first page that reaches executions started before the lookback', async () => {
    // Prepare: 2 executions a page, newest first; the lookback is 24 h
    const clock = fakeClock();
    const stoppedHoursAgo = [1, 5, 10, 20, 23, 25, 30, 40];
    const executions = stoppedHoursAgo.map((h) =>
      failure({ machine: 'payments', stoppedAgo: h * HOUR_MS }),
    );
    const fake = fakeStepFunctions(executions, { clock, pageSize: 2 });
    const { sweep } = buildSweeper(arnConfig(), clock);

    // Act
    const summary = await sweep();

    // Assess: pages [1,5] [10,20] [23,25]: the third reaches the lookback start, so [30,40] is never asked for
    const failedListings = sfnMock
      .commandCalls(ListExecutionsCommand)
      .map((c) => c.args[0].input)
      .filter((input) => input.statusFilter === 'FAILED');
    expect(failedListings.map((input) => input.nextToken)).toEqual([undefined, '2', '4']);
    expect(summary).toMatchObject({ listed: 5, enqueued: 5 });
    expect(sentMessages().map((m) => m.event.detail.executionArn)).toEqual(
      executions.slice(0, 5).map((e) => e.executionArn),
    );
    expect(fake.calls).toHaveLength(4);
  });

  it.each([
    { requestsPerSecond: 1, spacing: 1000 },
    { requestsPerSecond: 2, spacing: 500 },
    { requestsPerSecond: 0.25, spacing: 4000 },
  ])(
    'makes at most $requestsPerSecond list call(s) per second',
    async ({ requestsPerSecond, spacing }) => {
      // Prepare: 3 machines × 2 statuses
      const clock = fakeClock();
      const fake = fakeStepFunctions([], { clock });
      const sweepConfig = arnConfig({ requestsPerSecond }, ['payments', 'billing', 'shipping']);
      const { sweep } = buildSweeper(sweepConfig, clock);

      // Act
      await sweep();

      // Assess
      expect(fake.calls.map((c) => c.at)).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * spacing));
    },
  );

  it('finds the Standard state machines of the prefixes with ListStateMachines, page by page', async () => {
    // Prepare
    const clock = fakeClock();
    const fake = fakeStepFunctions([], {
      clock,
      pageSize: 2,
      machines: [
        stateMachine('orders-fulfilment'),
        stateMachine('orders-express', 'EXPRESS'),
        stateMachine('billing-close'),
        stateMachine('orders-returns'),
        stateMachine('payments'),
      ],
    });
    const { sweep } = buildSweeper(config, clock);

    // Act
    const summary = await sweep();

    // Assess
    expect(sfnMock.commandCalls(ListStateMachinesCommand).map((c) => c.args[0].input)).toEqual([
      { maxResults: 1000 },
      { maxResults: 1000, nextToken: '2' },
      { maxResults: 1000, nextToken: '4' },
    ]);
    const listings = sfnMock
      .commandCalls(ListExecutionsCommand)
      .map(
        (c) =>
          `${c.args[0].input.stateMachineArn?.split(':').at(-1)} ${c.args[0].input.statusFilter}`,
      );
    expect([...listings].sort()).toEqual([
      'orders-fulfilment FAILED',
      'orders-fulfilment TIMED_OUT',
      // The override adds ABORTED and drops TIMED_OUT for this machine only.
      'orders-returns ABORTED',
      'orders-returns FAILED',
      'payments FAILED',
      'payments TIMED_OUT',
    ]);
    expect(summary.stateMachines).toBe(3);
    expect(fake.calls).toHaveLength(9);
  });

  it('stops before the Lambda deadline and reports the sweep as truncated', async () => {
    // Prepare: 32.5 s left and a 30 s margin: calls at 0, 1 and 2 s fit, the one at 3 s does not
    const clock = fakeClock();
    const fake = fakeStepFunctions([], { clock });
    const logger = new Logger({ serviceName: SWEEPER_SERVICE_NAME, logLevel: 'INFO' });
    const sweepConfig = arnConfig({}, ['payments', 'billing', 'shipping']);
    const { sweep, metricValues } = buildSweeper(sweepConfig, clock, {
      remainingMs: 32_500,
      logger,
    });
    const captured = captureLogs();

    // Act
    const summary = await sweep();

    // Assess
    captured.restore();
    expect(fake.calls.map((c) => c.at)).toEqual([0, 1000, 2000]);
    expect(summary).toMatchObject({ truncated: true, failed: 0 });
    expect(metricValues()).toContainEqual(['SweepTruncated', 1]);
    const warning = captured
      .lines()
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .find((line) => line.level === 'WARN');
    expect(warning).toMatchObject({
      message: 'The sweep stopped before the Lambda deadline; the next sweep covers the rest',
      truncated: true,
    });
  });

  it('sends ten messages a batch', async () => {
    // Prepare
    const clock = fakeClock();
    const executions = Array.from({ length: 12 }, () => failure({ machine: 'payments' }));
    fakeStepFunctions(executions, { clock });
    const { sweep } = buildSweeper(arnConfig(), clock);

    // Act
    const summary = await sweep();

    // Assess
    const batches = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(batches.map((b) => b.args[0].input.Entries?.length)).toEqual([10, 2]);
    expect(summary).toMatchObject({ listed: 12, enqueued: 12 });
  });

  it('retries the entries SQS failed on its side, then succeeds', async () => {
    // Prepare
    const clock = fakeClock();
    const executions = [failure({ machine: 'payments' }), failure({ machine: 'payments' })];
    fakeStepFunctions(executions, { clock });
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: 'm0', MessageId: 'a', MD5OfMessageBody: 'x' }],
        Failed: [{ Id: 'm1', Code: 'InternalError', SenderFault: false }],
      })
      .rejectsOnce(
        new SFNServiceException({
          name: 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
          message: 'ServiceUnavailable',
        }),
      )
      .resolves({ Successful: [{ Id: 'm1', MessageId: 'b', MD5OfMessageBody: 'x' }], Failed: [] });
    const { sweep } = buildSweeper(arnConfig(), clock);

    // Act
    const summary = await sweep();

    // Assess
    const batches = sqsMock.commandCalls(SendMessageBatchCommand).map((b) => b.args[0].input);
    expect(batches.map((b) => b.Entries?.map((e) => e.Id))).toEqual([['m0', 'm1'], ['m1'], ['m1']]);
    expect(batches[2].Entries?.[0].MessageBody).toBe(batches[0].Entries?.[1].MessageBody);
    expect(summary).toMatchObject({ enqueued: 2, failed: 0 });
  });

  it.each([
    {
      label: 'a sender fault at once',
      failure: { Code: 'InvalidMessageContents', SenderFault: true },
      calls: 1,
    },
    {
      label: 'a server fault after 3 attempts',
      failure: { Code: 'InternalError', SenderFault: false },
      calls: 3,
    },
  ])(
    'gives up on an entry after $label, and fails the sweep with its summary',
    async ({ failure: entryFailure, calls }) => {
      // Prepare
      const clock = fakeClock();
      fakeStepFunctions([failure({ machine: 'payments' })], { clock });
      sqsMock.on(SendMessageBatchCommand).resolves({
        Successful: [],
        Failed: [{ Id: 'm0', ...entryFailure }],
      });
      const { sweep } = buildSweeper(arnConfig(), clock);

      // Act
      const outcome = sweep();

      // Assess
      await expect(outcome).rejects.toThrow(SweepIncompleteError);
      await expect(outcome).rejects.toMatchObject({
        summary: { listed: 1, enqueued: 0, failed: 1 },
        message: expect.stringContaining(`not enqueued (${entryFailure.Code})`),
      });
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, calls);
    },
  );

  it('sweeps the other state machines when one cannot be listed, then fails the sweep', async () => {
    // Prepare
    const clock = fakeClock();
    fakeStepFunctions([failure({ machine: 'billing' })], { clock });
    sfnMock.on(ListExecutionsCommand, { stateMachineArn: machineArn('payments') }).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      }),
    );
    const { sweep } = buildSweeper(arnConfig({}, ['payments', 'billing']), clock);

    // Act
    const outcome = sweep();

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'SweepIncompleteError',
      summary: { enqueued: 1, failed: 2 },
      message: expect.stringContaining(
        'ListExecutions of payments (FAILED) failed (ThrottlingException)',
      ),
    });
    expect(sentMessages()).toHaveLength(1);
  });

  it.each(['StateMachineDoesNotExist', 'StateMachineTypeNotSupported'])(
    'passes over a state machine listed by ARN that answers %s',
    async (errorName) => {
      // Prepare
      const clock = fakeClock();
      fakeStepFunctions([failure({ machine: 'billing' })], { clock });
      sfnMock.on(ListExecutionsCommand, { stateMachineArn: machineArn('payments') }).rejects(
        new SFNServiceException({
          name: errorName,
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: errorName,
        }),
      );
      const { sweep } = buildSweeper(arnConfig({}, ['payments', 'billing']), clock);

      // Act
      const summary = await sweep();

      // Assess
      expect(summary).toMatchObject({ stateMachines: 1, enqueued: 1, failed: 0 });
    },
  );

  it('enqueues a failure anyway when the idempotency table cannot be read', async () => {
    // Prepare: a persistence layer on a table that does not exist
    const clock = fakeClock();
    const lost = failure({ machine: 'payments' });
    fakeStepFunctions([lost], { clock });
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: `autoheal-missing-${randomUUID()}`,
      awsSdkV3Client: table.client,
    });
    const { sweep } = buildSweeper(arnConfig(), clock, { persistenceStore });

    // Act
    const summary = await sweep();

    // Assess
    expect(summary).toMatchObject({ enqueued: 1, alreadyHandled: 0, failed: 0 });
  });
});

describe('the sweeper over more machines than one sweep reaches', () => {
  /** Machine names that sort as they are numbered. */
  const names = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `m-${String(from + i).padStart(4, '0')}`);
  /** The ListExecutions calls so far: machine name, status, page token. */
  const listCalls = () =>
    sfnMock.commandCalls(ListExecutionsCommand).map(({ args: [command] }) => ({
      machine: command.input.stateMachineArn?.split(':').at(-1) as string,
      status: command.input.statusFilter as string,
      nextToken: command.input.nextToken,
    }));
  /** Runs one sweep an hour (or `afterMs`) after the last, and returns the calls it made. */
  const sweepAnHourLater = async (
    clock: Clock,
    sweep: () => Promise<SweepSummary>,
    afterMs = HOUR_MS,
  ) => {
    await clock.sleep(afterMs);
    const before = listCalls().length;
    const summary = await sweep();
    return { summary, calls: listCalls().slice(before) };
  };
  /** 2 calls a second for 30 s past the margin: 61 calls, 30 machines and a half, a sweep. */
  const SHORT_SWEEP_MS = 60_000;

  it('sweeps 300 machines over consecutive sweeps, each once a pass and none twice in a sweep', async () => {
    // Prepare
    const clock = fakeClock();
    fakeStepFunctions([], { clock });
    const scope = arnConfig({ requestsPerSecond: 2 }, names(0, 300));
    const { sweep } = buildSweeper(scope, clock, { remainingMs: SHORT_SWEEP_MS });

    // Act
    const sweeps: Awaited<ReturnType<typeof sweepAnHourLater>>[] = [];
    while (sweeps.length < 30 && !sweeps.some((s) => s.summary.passMinutes !== undefined)) {
      sweeps.push(await sweepAnHourLater(clock, sweep));
    }

    // Assess
    expect(sweeps).toHaveLength(10);
    // The last sweep goes on into the next pass with the time it has left.
    const failedListings = sweeps.flatMap((s) => s.calls).filter((c) => c.status === 'FAILED');
    expect(failedListings.slice(0, 300).map((c) => c.machine)).toEqual(names(0, 300));
    for (const { calls } of sweeps) {
      const keys = calls.map((c) => `${c.machine} ${c.status}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(calls.length).toBeLessThanOrEqual(61);
    }
    // Nine hours between the first and the last sweep, plus the half minute each sweep took.
    expect(sweeps.at(-1)?.summary.passMinutes).toBeGreaterThanOrEqual(9 * 60);
    expect(sweeps.at(-1)?.summary.passMinutes).toBeLessThanOrEqual(9 * 60 + 10 * 0.5);
    expect(sweeps.slice(0, -1).every((s) => s.summary.truncated)).toBe(true);
  }, 30_000);

  it('picks up after the last machine it finished when the scope changed, that one gone, new ones in', async () => {
    // Prepare: the first sweep ends inside m-0030
    const clock = fakeClock();
    fakeStepFunctions([], { clock });
    const before = buildSweeper(arnConfig({ requestsPerSecond: 2 }, names(0, 100)), clock, {
      remainingMs: SHORT_SWEEP_MS,
    });
    const first = await sweepAnHourLater(clock, before.sweep);
    const lastDone = 'm-0029';
    expect(first.calls.at(-1)).toMatchObject({ machine: 'm-0030', status: 'FAILED' });
    const widenedAndNarrowed = [
      ...names(0, 100).filter((name) => name !== lastDone && name !== 'm-0030'),
      'm-0010a',
      'm-0029a',
      'm-0500',
    ];
    const after = buildSweeper(arnConfig({ requestsPerSecond: 2 }, widenedAndNarrowed), clock, {
      remainingMs: SHORT_SWEEP_MS,
    });

    // Act
    const next = [];
    for (let i = 0; i < 4; i++) next.push(await sweepAnHourLater(clock, after.sweep));

    // Assess
    const swept = next.flatMap((s) => s.calls).filter((c) => c.status === 'FAILED');
    expect(swept[0].machine).toBe('m-0029a');
    expect(new Set(swept.map((c) => c.machine))).toEqual(new Set(widenedAndNarrowed));
    expect(next.filter((s) => s.summary.passMinutes !== undefined)).toHaveLength(1);
  });

  it('sweeps again the machine a sweep died in, and skips none', async () => {
    // Prepare: the first sweep dies on its 11th wait for the pacer, after listing m-0005's FAILED
    const clock = fakeClock();
    fakeStepFunctions([], { clock });
    const scope = arnConfig({ requestsPerSecond: 2 }, names(0, 40));
    let waits = 0;
    const dying = {
      now: clock.now,
      sleep: async (ms: number) => {
        if (++waits === 11) throw new Error('the invocation ended');
        await clock.sleep(ms);
      },
    };
    await expect(buildSweeper(scope, dying).sweep()).rejects.toThrow('the invocation ended');
    const beforeCrash = listCalls();

    // Act
    const next = await sweepAnHourLater(clock, buildSweeper(scope, clock).sweep);

    // Assess
    expect(beforeCrash.at(-1)).toEqual({
      machine: 'm-0005',
      status: 'FAILED',
      nextToken: undefined,
    });
    expect(next.calls.slice(0, 2)).toEqual([
      { machine: 'm-0005', status: 'FAILED', nextToken: undefined },
      { machine: 'm-0005', status: 'TIMED_OUT', nextToken: undefined },
    ]);
    const swept = [...beforeCrash, ...next.calls].filter((c) => c.status === 'FAILED');
    expect(new Set(swept.map((c) => c.machine))).toEqual(new Set(names(0, 40)));
  });

  it('lets one of two overlapping sweeps sweep, and the other sweep nothing', async () => {
    // Prepare
    const clock = fakeClock();
    fakeStepFunctions([], { clock });
    const scope = arnConfig({}, names(0, 20));
    const one = buildSweeper(scope, clock);
    const other = buildSweeper(scope, fakeClock());

    // Act
    const summaries = await Promise.all([one.sweep(), other.sweep()]);

    // Assess
    expect(summaries.map((s) => s.overlapped).sort()).toEqual([false, true]);
    const failedListings = listCalls().filter((c) => c.status === 'FAILED');
    expect(failedListings.map((c) => c.machine)).toEqual(names(0, 20));
  });

  it('waits out the lease of a sweep that died holding it, then goes on from its cursor', async () => {
    // Prepare: a dead sweep's lease until a minute from now, its cursor after m-0004
    const clock = fakeClock();
    fakeStepFunctions([], { clock });
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          [IDEMPOTENCY_TABLE.partitionKey]: { S: idempotencyKeyPrefixes().sweepCursor },
          sweepAfter: { S: machineArn('m-0004') },
          leaseOwner: { S: 'a sweep that died' },
          leaseUntil: { N: String(NOW + MINUTE_MS) },
        },
      }),
    );
    const { sweep } = buildSweeper(arnConfig({}, names(0, 10)), clock);

    // Act
    const whileHeld = await sweep();
    await clock.sleep(2 * MINUTE_MS);
    const afterwards = await sweep();

    // Assess
    expect(whileHeld.overlapped).toBe(true);
    const machines = listCalls()
      .filter((c) => c.status === 'FAILED')
      .map((c) => c.machine);
    expect(machines).toEqual([...names(5, 10), ...names(0, 5)]);
    expect(afterwards).toMatchObject({ overlapped: false, stateMachines: 10 });
  });

  it('lists a machine from its first page when the page token a sweep kept has expired', async () => {
    // Prepare: the cursor keeps a token of m-0000's FAILED pages that Step Functions no longer takes
    const clock = fakeClock();
    fakeStepFunctions([], { clock });
    sfnMock.on(ListExecutionsCommand, { nextToken: 'expired' }).rejects(
      new SFNServiceException({
        name: 'InvalidToken',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Invalid Token: expired',
      }),
    );
    const resume = { arn: machineArn('m-0000'), status: 'FAILED', nextToken: 'expired' };
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          [IDEMPOTENCY_TABLE.partitionKey]: { S: idempotencyKeyPrefixes().sweepCursor },
          sweepResume: { S: JSON.stringify(resume) },
        },
      }),
    );
    const { sweep } = buildSweeper(arnConfig({}, names(0, 2)), clock);

    // Act
    const summary = await sweep();

    // Assess
    expect(listCalls()).toEqual([
      { machine: 'm-0000', status: 'FAILED', nextToken: 'expired' },
      { machine: 'm-0000', status: 'FAILED', nextToken: undefined },
      { machine: 'm-0000', status: 'TIMED_OUT', nextToken: undefined },
      { machine: 'm-0001', status: 'FAILED', nextToken: undefined },
      { machine: 'm-0001', status: 'TIMED_OUT', nextToken: undefined },
    ]);
    expect(summary).toMatchObject({ failed: 0, stateMachines: 2 });
  });

  it('picks a machine with more pages than one sweep lists up at the page it stopped at', async () => {
    // Prepare: 2,500 failures of m-0000 (not due yet: no record reads), 2 calls a sweep
    const clock = fakeClock();
    const many = Array.from({ length: 2500 }, () =>
      failure({ machine: 'm-0000', stoppedAgo: 5 * MINUTE_MS }),
    );
    fakeStepFunctions(many, { clock });
    const { sweep } = buildSweeper(arnConfig({}, names(0, 2)), clock, { remainingMs: 31_500 });

    // Act
    const sweeps = [];
    for (let i = 0; i < 3; i++) sweeps.push(await sweepAnHourLater(clock, sweep, 0));

    // Assess
    expect(sweeps.map((s) => s.calls)).toEqual([
      [
        { machine: 'm-0000', status: 'FAILED', nextToken: undefined },
        { machine: 'm-0000', status: 'FAILED', nextToken: '1000' },
      ],
      [
        { machine: 'm-0000', status: 'FAILED', nextToken: '2000' },
        { machine: 'm-0000', status: 'TIMED_OUT', nextToken: undefined },
      ],
      [
        { machine: 'm-0001', status: 'FAILED', nextToken: undefined },
        { machine: 'm-0001', status: 'TIMED_OUT', nextToken: undefined },
      ],
    ]);
  });
});
