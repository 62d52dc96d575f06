/**
 * The flow starter end to end, minus AWS: idempotency records live in
 * DynamoDB Local, AppFlow, SNS and SQS are mocked, and every test asserts the
 * exact calls made, and that no other call was made.
 *
 * EventBridge Scheduler invokes the starter asynchronously; Lambda retries an
 * invocation that throws (twice), and may deliver one tick more than once.
 * Both are played here by invoking the handler again with the same tick.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AppflowClient,
  ConflictException,
  DescribeFlowCommand,
  type DescribeFlowResponse,
  InternalServerException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  StartFlowCommand,
  ThrottlingException,
} from '@aws-sdk/client-appflow';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createFlowStarterHandler, type TickResult } from '../../lambda/appflow/flow-starter';
import { parseAppflowConfig } from '../../lambda/shared/autoheal-config';
import {
  FLOW_STARTER_SERVICE_NAME,
  IDEMPOTENCY_RECORD_TTL_SECONDS,
  MESSAGE_ATTRIBUTES,
} from '../../lambda/shared/contract';
import { RetryableError } from '../../lambda/shared/errors';
import { tickSlices } from '../../lib/constructs/scheduled-flows';
import {
  notices,
  resetSnsAndSqsMocks,
  snsMock,
  sqsMock,
  stringAttribute,
} from '../support/aws-mocks';
import { expectedToken } from '../support/client-token';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
} from '../support/idempotency-table';
import { ACCOUNT, powertools, queueUrl, REGION, TOPIC_ARN } from '../support/lambda-env';
import { captureLogs } from '../support/logs';
import type { CountedMetric } from '../support/metrics';
import { overlap, sleep } from '../support/timing';

const DLQ_URL = queueUrl('autoheal-flow-starter-dlq');
const MAX_CONCURRENT_STARTS = 3;
const NIGHTLY = ['crm-export', 'erp-sync', 'ledger.pull'];
const BULK = Array.from({ length: 8 }, (_, i) => `bulk-load-${i + 1}`);

const config = parseAppflowConfig({
  schedules: [
    { name: 'nightly', expression: 'cron(0 2 * * ? *)', flows: NIGHTLY },
    { name: 'bulk', expression: 'rate(1 hour)', flows: BULK },
  ],
  maxConcurrentStarts: MAX_CONCURRENT_STARTS,
});

const appflowMock = mockClient(AppflowClient);

const flowArn = (flowName: string) => `arn:aws:appflow:${REGION}:${ACCOUNT}:flow/${flowName}`;
const executionIdOf = (flowName: string) =>
  createHash('md5').update(`run-of-${flowName}`).digest('hex');

/** DescribeFlow's answer for a flow; by default an Active OnDemand flow. */
function described(flowName: string, changes: DescribeFlowResponse = {}): DescribeFlowResponse {
  return {
    flowArn: flowArn(flowName),
    flowName,
    flowStatus: 'Active',
    triggerConfig: { triggerType: 'OnDemand' },
    createdAt: new Date('2026-01-05T09:00:00Z'),
    ...changes,
  };
}

/**
 * The result of a nightly tick that started every flow; `replayed` when it
 * was read back from the idempotency records instead.
 */
function everyNightlyFlowStarted(scheduledTime: string, { replayed }: { replayed?: true } = {}) {
  return {
    schedule: 'nightly',
    scheduledTime,
    results: NIGHTLY.map((flowName) => ({
      flowName,
      outcome: 'started',
      executionId: executionIdOf(flowName),
      ...(replayed && { replayed }),
    })),
  };
}

/** A tick as EventBridge Scheduler sends it; each test gets its own scheduled time. */
function tick(schedule = 'nightly', flows = NIGHTLY) {
  const minute = Math.floor(Math.random() * 525_600);
  const scheduledTime = new Date(Date.UTC(2026, 0, 1) + minute * 60_000)
    .toISOString()
    .replace('.000Z', 'Z');
  return { schedule, scheduledTime, flows: [...flows] };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Sorts counted metrics by name and reason: flows are handled concurrently, in no fixed order. */
const sorted = (counted: readonly CountedMetric[]) => {
  const key = (metric: CountedMetric) => `${metric.name}/${metric.reason ?? ''}`;
  return [...counted].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
};

let table: IdempotencyTable;

beforeEach(async () => {
  appflowMock.reset();
  resetSnsAndSqsMocks();
  appflowMock.on(DescribeFlowCommand).callsFake((input) => described(input.flowName));
  appflowMock.on(StartFlowCommand).callsFake((input) => ({
    flowArn: flowArn(input.flowName),
    flowStatus: 'Active',
    executionId: executionIdOf(input.flowName),
  }));
  table = await createIdempotencyTable();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await table.dispose();
});

/**
 * One Lambda execution environment: its own clients, Logger, Metrics and
 * persistence layer, sharing only the idempotency table with the others.
 */
function lambdaEnvironment(logger?: Logger, starterConfig = config) {
  const env = powertools(FLOW_STARTER_SERVICE_NAME, logger);
  const handler = createFlowStarterHandler({
    config: starterConfig,
    appflow: new AppflowClient({}),
    sns: new SNSClient({}),
    sqs: new SQSClient({}),
    persistenceStore: table.persistenceLayer(),
    noticeTopicArn: TOPIC_ARN,
    deadLetterQueueUrl: DLQ_URL,
    logger: env.logger,
    metrics: env.metrics,
  });
  const invoke = (event: unknown, remainingMs?: number): Promise<TickResult> =>
    handler(event, lambdaContext(remainingMs));
  return { invoke, counted: env.counted };
}

/** The StartFlow requests sent, sorted by flow: flows are started concurrently, in no fixed order. */
const startFlowInputs = () =>
  appflowMock
    .commandCalls(StartFlowCommand)
    .map(({ args: [command] }) => command.input)
    .sort((a, b) => ((a.flowName ?? '') < (b.flowName ?? '') ? -1 : 1));

/** The invocation's error, or a test failure if it did not throw. */
async function rejectionOf(invocation: Promise<unknown>): Promise<Error> {
  try {
    await invocation;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the invocation did not throw');
}

describe('flow starter', () => {
  it('starts every Active OnDemand flow of a tick once, with a client token derived from flow and tick', async () => {
    // Prepare: a frozen tick, so any mutation of the input throws
    const { invoke, counted } = lambdaEnvironment();
    const event = deepFreeze(tick());
    const before = Math.floor(Date.now() / 1000);

    // Act
    const result = await invoke(event);

    // Assess
    expect(result).toEqual(everyNightlyFlowStarted(event.scheduledTime));
    expect(appflowMock).toHaveReceivedCommandTimes(DescribeFlowCommand, NIGHTLY.length);
    for (const flowName of NIGHTLY) {
      expect(appflowMock).toHaveReceivedCommandWith(DescribeFlowCommand, { flowName });
    }
    expect(startFlowInputs()).toEqual(
      NIGHTLY.map((flowName) => ({
        flowName,
        clientToken: expectedToken(flowName, event.scheduledTime),
      })),
    );
    for (const { clientToken } of startFlowInputs()) expect(clientToken).toMatch(/^[0-9a-f]{64}$/);
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(counted).toEqual(NIGHTLY.map(() => ({ name: 'FlowStarted' })));
    const items = await table.items();
    expect(items).toHaveLength(NIGHTLY.length);
    for (const item of items) {
      expect(item).toMatchObject({
        id: expect.stringMatching(/^autoheal-flow-start#/),
        status: 'COMPLETED',
        data: { outcome: 'started', executionId: expect.any(String) },
      });
      expect(item.expiration).toBeGreaterThanOrEqual(before + IDEMPOTENCY_RECORD_TTL_SECONDS);
    }
  });

  it('starts each flow once when the same tick is delivered twice', async () => {
    // Prepare: the duplicate is handled by another execution environment
    const event = tick();
    const first = lambdaEnvironment();
    const second = lambdaEnvironment();

    // Act
    const results = [await first.invoke(event), await second.invoke(event)];

    // Assess
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, NIGHTLY.length);
    expect(appflowMock).toHaveReceivedCommandTimes(DescribeFlowCommand, NIGHTLY.length);
    expect(results[1]).toEqual(everyNightlyFlowStarted(event.scheduledTime, { replayed: true }));
    expect(first.counted).toEqual(NIGHTLY.map(() => ({ name: 'FlowStarted' })));
    expect(second.counted).toEqual(NIGHTLY.map(() => ({ name: 'DuplicateTick' })));
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it("starts the flows again at the next tick, with that tick's client token", async () => {
    // Prepare
    const { invoke, counted } = lambdaEnvironment();
    const first = tick('nightly', ['crm-export']);
    const next = {
      ...first,
      scheduledTime: new Date(Date.parse(first.scheduledTime) + 3_600_000)
        .toISOString()
        .replace('.000Z', 'Z'),
    };

    // Act
    await invoke(first);
    await invoke(next);

    // Assess
    expect(startFlowInputs()).toEqual([
      { flowName: 'crm-export', clientToken: expectedToken('crm-export', first.scheduledTime) },
      { flowName: 'crm-export', clientToken: expectedToken('crm-export', next.scheduledTime) },
    ]);
    expect(counted).toEqual([{ name: 'FlowStarted' }, { name: 'FlowStarted' }]);
    expect(await table.items()).toHaveLength(2);
  });

  it('starts each flow once when two invocations handle the same tick concurrently; the loser is retried', async () => {
    // Prepare: StartFlow is held until one invocation has finished (at most 2 s), so the two
    // invocations truly overlap however slow the machine is
    const event = tick();
    const { hold, oneFinished } = overlap();
    appflowMock.on(StartFlowCommand).callsFake(async (input) => {
      await hold();
      return { flowStatus: 'Active', executionId: executionIdOf(input.flowName) };
    });
    const envA = lambdaEnvironment();
    const envB = lambdaEnvironment();

    // Act
    const outcomes = await Promise.allSettled([
      envA.invoke(event).finally(oneFinished),
      envB.invoke(event).finally(oneFinished),
    ]);

    // Assess: each flow was started by one invocation; the other found it in progress and threw
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, NIGHTLY.length);
    expect(
      startFlowInputs()
        .map((input) => input.flowName)
        .sort(),
    ).toEqual([...NIGHTLY].sort());
    const all = [...envA.counted, ...envB.counted];
    expect(all.filter((m) => m.name === 'FlowStarted')).toHaveLength(NIGHTLY.length);
    expect(all.filter((m) => m.name !== 'FlowStarted')).toEqual(
      NIGHTLY.map(() => ({ name: 'FlowStartFailed', reason: 'in-progress-elsewhere' })),
    );
    const losers = [envA, envB].filter((_, i) => outcomes[i].status === 'rejected');
    expect(losers.length).toBeGreaterThanOrEqual(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(RetryableError);
    }

    // Act: Lambda retries each invocation that threw
    const retries = await Promise.all(losers.map((loser) => loser.invoke(event)));

    // Assess: the stored results are replayed, no flow is started again
    for (const retry of retries) {
      expect(retry).toEqual(everyNightlyFlowStarted(event.scheduledTime, { replayed: true }));
    }
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, NIGHTLY.length);
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('does not let an invocation that timed out mid-start block the retry', async () => {
    // Prepare: the first invocation hangs in StartFlow with 50 ms left, like a Lambda about to time out
    const event = tick('nightly', ['crm-export']);
    let releaseHungCall: () => void = () => undefined;
    appflowMock
      .on(StartFlowCommand)
      .callsFakeOnce(
        () =>
          new Promise((resolve) => {
            releaseHungCall = () =>
              resolve({ flowStatus: 'Active', executionId: executionIdOf('crm-export') });
          }),
      )
      .resolves({ flowStatus: 'Active', executionId: executionIdOf('crm-export') });
    const timedOut = lambdaEnvironment();
    const fresh = lambdaEnvironment();
    const hung = timedOut.invoke(event, 50);
    while (appflowMock.commandCalls(StartFlowCommand).length === 0) await sleep(5);
    await sleep(60);

    // Act: Lambda retries the tick in a new environment
    const retry = await fresh.invoke(event);

    // Assess: the stale INPROGRESS record did not block the retry, which reused the token
    expect(retry).toMatchObject({ results: [{ flowName: 'crm-export', outcome: 'started' }] });
    expect(fresh.counted).toEqual([{ name: 'FlowStarted' }]);
    expect(startFlowInputs()).toEqual([
      { flowName: 'crm-export', clientToken: expectedToken('crm-export', event.scheduledTime) },
      { flowName: 'crm-export', clientToken: expectedToken('crm-export', event.scheduledTime) },
    ]);
    releaseHungCall();
    await hung.catch(() => undefined);
  });

  it.each(['Scheduled', 'Event'] as const)(
    'does not start a %s flow (StartFlow would only activate it) and sends a notice saying so',
    async (triggerType) => {
      // Prepare
      const { invoke, counted } = lambdaEnvironment();
      const event = tick('nightly', ['erp-sync']);
      appflowMock
        .on(DescribeFlowCommand, { flowName: 'erp-sync' })
        .resolves(described('erp-sync', { triggerConfig: { triggerType } }));

      // Act
      const result = await invoke(event);

      // Assess
      expect(result).toEqual({
        schedule: 'nightly',
        scheduledTime: event.scheduledTime,
        results: [{ flowName: 'erp-sync', outcome: 'skipped', reason: 'not-on-demand' }],
      });
      expect(appflowMock).toHaveReceivedCommandTimes(DescribeFlowCommand, 1);
      expect(appflowMock).not.toHaveReceivedCommand(StartFlowCommand);
      expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
      const [notice] = notices();
      expect(notice).toMatchObject({
        TopicArn: TOPIC_ARN,
        Subject: 'Autoheal did not start flow erp-sync',
        MessageAttributes: {
          kind: stringAttribute('flow-start-skipped'),
          reason: stringAttribute('not-on-demand'),
        },
      });
      expect(notice.body).toEqual({
        kind: 'flow-start-skipped',
        reason: 'not-on-demand',
        flowName: 'erp-sync',
        schedule: 'nightly',
        scheduledTime: event.scheduledTime,
        detail: expect.stringContaining(
          `trigger is ${triggerType}: StartFlow would only activate a Scheduled or Event flow, not run it`,
        ),
      });
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(counted).toEqual([{ name: 'FlowSkipped', reason: 'not-on-demand' }]);
    },
  );

  it.each([
    {
      flowStatus: 'Suspended',
      flowStatusMessage: 'Flow deactivated after 3 consecutive failed runs',
    },
    {
      flowStatus: 'Errored',
      flowStatusMessage: 'The connector profile crm-prod has invalid credentials',
    },
    { flowStatus: 'Draft', flowStatusMessage: 'Flow has not been activated' },
    { flowStatus: 'Deprecated', flowStatusMessage: 'The connector version is deprecated' },
    { flowStatus: 'Deleted', flowStatusMessage: 'Flow was deleted' },
  ] as const)(
    'does not start a $flowStatus flow and passes its status message on in a notice',
    async ({ flowStatus, flowStatusMessage }) => {
      // Prepare: the other flows of the tick are started regardless
      const { invoke, counted } = lambdaEnvironment();
      const event = tick();
      appflowMock
        .on(DescribeFlowCommand, { flowName: 'erp-sync' })
        .resolves(described('erp-sync', { flowStatus, flowStatusMessage }));
      const reason = `flow-${flowStatus.toLowerCase()}`;

      // Act
      const result = await invoke(event);

      // Assess
      expect(result).toEqual({
        schedule: 'nightly',
        scheduledTime: event.scheduledTime,
        results: [
          { flowName: 'crm-export', outcome: 'started', executionId: executionIdOf('crm-export') },
          { flowName: 'erp-sync', outcome: 'skipped', reason },
          {
            flowName: 'ledger.pull',
            outcome: 'started',
            executionId: executionIdOf('ledger.pull'),
          },
        ],
      });
      expect(startFlowInputs().map((input) => input.flowName)).toEqual([
        'crm-export',
        'ledger.pull',
      ]);
      expect(appflowMock).not.toHaveReceivedCommandWith(StartFlowCommand, {
        flowName: 'erp-sync',
      });
      expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
      const [notice] = notices();
      expect(notice.MessageAttributes).toEqual({
        kind: stringAttribute('flow-start-skipped'),
        reason: stringAttribute(reason),
      });
      expect(notice.body).toEqual({
        kind: 'flow-start-skipped',
        reason,
        flowName: 'erp-sync',
        schedule: 'nightly',
        scheduledTime: event.scheduledTime,
        detail: flowStatusMessage,
      });
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(sorted(counted)).toEqual([
        { name: 'FlowSkipped', reason },
        { name: 'FlowStarted' },
        { name: 'FlowStarted' },
      ]);
    },
  );

  it('sends a notice for a flow that does not exist and does not retry the tick', async () => {
    // Prepare
    const { invoke, counted } = lambdaEnvironment();
    const event = tick('nightly', ['ledger.pull']);
    appflowMock
      .on(DescribeFlowCommand)
      .rejects(new ResourceNotFoundException({ message: 'Flow not found', $metadata: {} }));

    // Act
    const first = await invoke(event);
    const redelivery = await invoke(event);

    // Assess: no throw, no StartFlow, one notice; the redelivery replays the skip
    const skipped = { flowName: 'ledger.pull', outcome: 'skipped', reason: 'flow-not-found' };
    expect(first).toEqual({
      schedule: 'nightly',
      scheduledTime: event.scheduledTime,
      results: [skipped],
    });
    expect(redelivery).toEqual({
      schedule: 'nightly',
      scheduledTime: event.scheduledTime,
      results: [{ ...skipped, replayed: true }],
    });
    expect(appflowMock).toHaveReceivedCommandTimes(DescribeFlowCommand, 1);
    expect(appflowMock).not.toHaveReceivedCommand(StartFlowCommand);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const [notice] = notices();
    expect(notice.MessageAttributes).toEqual({
      kind: stringAttribute('flow-start-skipped'),
      reason: stringAttribute('flow-not-found'),
    });
    expect(notice.body).toMatchObject({ flowName: 'ledger.pull', schedule: 'nightly' });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(counted).toEqual([
      { name: 'FlowSkipped', reason: 'flow-not-found' },
      { name: 'DuplicateTick' },
    ]);
  });

  it.each([
    new ConflictException({ message: 'Flow run already in progress', $metadata: {} }),
    new ServiceQuotaExceededException({ message: 'Concurrent runs quota reached', $metadata: {} }),
  ])(
    'records a refused StartFlow ($name) as failed with one notice, without retrying the tick',
    async (refusal) => {
      // Prepare
      const { invoke, counted } = lambdaEnvironment();
      const event = tick();
      appflowMock.on(StartFlowCommand, { flowName: 'crm-export' }).rejects(refusal);
      const reason = `start-refused:${refusal.name}`;

      // Act
      const first = await invoke(event);
      const redelivery = await invoke(event);

      // Assess: not thrown, and the redelivery makes no new StartFlow
      expect(first).toEqual({
        schedule: 'nightly',
        scheduledTime: event.scheduledTime,
        results: [
          { flowName: 'crm-export', outcome: 'failed', reason },
          { flowName: 'erp-sync', outcome: 'started', executionId: executionIdOf('erp-sync') },
          {
            flowName: 'ledger.pull',
            outcome: 'started',
            executionId: executionIdOf('ledger.pull'),
          },
        ],
      });
      expect(redelivery).toMatchObject({
        results: NIGHTLY.map((flowName) => ({ flowName, replayed: true })),
      });
      expect(startFlowInputs()).toEqual(
        NIGHTLY.map((flowName) => ({
          flowName,
          clientToken: expectedToken(flowName, event.scheduledTime),
        })),
      );
      expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
      const [notice] = notices();
      expect(notice).toMatchObject({
        Subject: 'Autoheal could not start flow crm-export',
        MessageAttributes: {
          kind: stringAttribute('flow-start-failed'),
          reason: stringAttribute(reason),
        },
      });
      expect(notice.body).toEqual({
        kind: 'flow-start-failed',
        reason,
        flowName: 'crm-export',
        schedule: 'nightly',
        scheduledTime: event.scheduledTime,
        detail: `StartFlow answered ${refusal.name}; not retried`,
      });
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(sorted(counted)).toEqual([
        { name: 'DuplicateTick' },
        { name: 'DuplicateTick' },
        { name: 'DuplicateTick' },
        { name: 'FlowStartFailed', reason },
        { name: 'FlowStarted' },
        { name: 'FlowStarted' },
      ]);
    },
  );

  it.each([
    {
      label: 'StartFlow InternalServerException',
      command: StartFlowCommand,
      reason: 'InternalServerException',
      error: () => new InternalServerException({ message: 'Try again later', $metadata: {} }),
    },
    {
      label: 'StartFlow ThrottlingException',
      command: StartFlowCommand,
      reason: 'ThrottlingException',
      error: () => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }),
    },
    {
      label: 'a network error (ECONNRESET) on StartFlow',
      command: StartFlowCommand,
      reason: 'ECONNRESET',
      error: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    },
    {
      label: 'DescribeFlow ThrottlingException',
      command: DescribeFlowCommand,
      reason: 'ThrottlingException',
      error: () => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }),
    },
  ])(
    'on $label for one flow, starts the others and throws; the retry starts only that flow',
    async ({ command, error, reason }) => {
      // Prepare: erp-sync fails once, then succeeds
      const { invoke, counted } = lambdaEnvironment();
      const event = tick();
      if (command === StartFlowCommand) {
        appflowMock
          .on(StartFlowCommand, { flowName: 'erp-sync' })
          .rejectsOnce(error())
          .resolves({ flowStatus: 'Active', executionId: executionIdOf('erp-sync') });
      } else {
        appflowMock
          .on(DescribeFlowCommand, { flowName: 'erp-sync' })
          .rejectsOnce(error())
          .resolves(described('erp-sync'));
      }

      // Act
      const thrown = await rejectionOf(invoke(event));

      // Assess: the tick failed for erp-sync only, and only its record is missing
      expect(thrown).toBeInstanceOf(RetryableError);
      expect(thrown.message).toBe(
        '1 of 3 flows did not start (erp-sync); Lambda retries the tick, which starts only those',
      );
      expect(startFlowInputs().map((input) => input.flowName)).toEqual(
        command === StartFlowCommand
          ? ['crm-export', 'erp-sync', 'ledger.pull']
          : ['crm-export', 'ledger.pull'],
      );
      expect(sorted(counted)).toEqual([
        { name: 'FlowStartFailed', reason },
        { name: 'FlowStarted' },
        { name: 'FlowStarted' },
      ]);
      expect(await table.items()).toHaveLength(2);
      const callsBeforeRetry = appflowMock.commandCalls(StartFlowCommand).length;
      counted.length = 0;

      // Act: Lambda retries the invocation with the same tick
      const retry = await invoke(event);

      // Assess: exactly one more StartFlow, for erp-sync, with the tick's token
      const retried = appflowMock.commandCalls(StartFlowCommand).slice(callsBeforeRetry);
      expect(retried.map(({ args: [command] }) => command.input)).toEqual([
        { flowName: 'erp-sync', clientToken: expectedToken('erp-sync', event.scheduledTime) },
      ]);
      expect(retry).toEqual({
        schedule: 'nightly',
        scheduledTime: event.scheduledTime,
        results: [
          {
            flowName: 'crm-export',
            outcome: 'started',
            executionId: executionIdOf('crm-export'),
            replayed: true,
          },
          { flowName: 'erp-sync', outcome: 'started', executionId: executionIdOf('erp-sync') },
          {
            flowName: 'ledger.pull',
            outcome: 'started',
            executionId: executionIdOf('ledger.pull'),
            replayed: true,
          },
        ],
      });
      expect(sorted(counted)).toEqual([
        { name: 'DuplicateTick' },
        { name: 'DuplicateTick' },
        { name: 'FlowStarted' },
      ]);
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect((await table.items()).map((item) => item.status)).toEqual([
        'COMPLETED',
        'COMPLETED',
        'COMPLETED',
      ]);
    },
  );

  it('retries the tick when a skip notice fails to publish, so the notice is not lost', async () => {
    // Prepare
    const { invoke } = lambdaEnvironment();
    const event = tick('nightly', ['crm-export']);
    appflowMock
      .on(DescribeFlowCommand)
      .resolves(described('crm-export', { flowStatus: 'Suspended', flowStatusMessage: 'paused' }));
    snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .resolves({ MessageId: randomUUID() });

    // Act
    const thrown = await rejectionOf(invoke(event));
    const retry = await invoke(event);
    const later = await invoke(event);

    // Assess
    expect(thrown).toBeInstanceOf(RetryableError);
    expect(retry).toMatchObject({
      results: [{ flowName: 'crm-export', outcome: 'skipped', reason: 'flow-suspended' }],
    });
    expect(later).toMatchObject({ results: [{ replayed: true }] });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(appflowMock).not.toHaveReceivedCommand(StartFlowCommand);
  });

  it.each([
    { problem: 'a tick that is not an object', event: 'nightly', field: 'event' },
    {
      problem: 'a tick without a schedule',
      event: { scheduledTime: '2026-03-02T02:00:00Z', flows: ['crm-export'] },
      field: 'schedule',
    },
    {
      problem: 'a tick of an unconfigured schedule',
      event: { schedule: 'weekly', scheduledTime: '2026-03-02T02:00:00Z', flows: ['crm-export'] },
      field: 'schedule',
    },
    {
      problem: 'a tick with the unsubstituted placeholder as its time',
      event: {
        schedule: 'nightly',
        scheduledTime: '<aws.scheduler.scheduled-time>',
        flows: ['crm-export'],
      },
      field: 'scheduledTime',
    },
    {
      problem: 'a tick with no flows',
      event: { schedule: 'nightly', scheduledTime: '2026-03-02T02:00:00Z', flows: [] },
      field: 'flows',
    },
    {
      problem: 'a tick naming a flow of another schedule',
      event: {
        schedule: 'nightly',
        scheduledTime: '2026-03-02T02:00:00Z',
        flows: ['crm-export', 'bulk-load-1'],
      },
      field: 'flows[1]',
    },
    {
      problem: 'a tick naming a flow twice',
      event: {
        schedule: 'nightly',
        scheduledTime: '2026-03-02T02:00:00Z',
        flows: ['crm-export', 'crm-export'],
      },
      field: 'flows[1]',
    },
  ])(
    'parks $problem in the DLQ naming $field, with no AppFlow or SNS call and no throw',
    async ({ event, field }) => {
      // Prepare
      const { invoke, counted } = lambdaEnvironment();

      // Act
      const result = await invoke(event);

      // Assess
      expect(result).toEqual({
        parked: true,
        reason: expect.stringMatching(`^invalid-input: ${field.replace(/[[\]]/g, '\\$&')}: `),
      });
      expect(appflowMock).not.toHaveReceivedAnyCommand();
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual({
        QueueUrl: DLQ_URL,
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          [MESSAGE_ATTRIBUTES.parkedReason]: stringAttribute(
            'reason' in result ? result.reason : 'not parked',
          ),
          [MESSAGE_ATTRIBUTES.invalidField]: stringAttribute(field),
        },
      });
      expect(await table.items()).toEqual([]);
      expect(counted).toEqual([{ name: 'InvalidTick' }]);
    },
  );

  it(`has at most maxConcurrentStarts (${MAX_CONCURRENT_STARTS}) StartFlow calls in flight`, async () => {
    // Prepare: a slow StartFlow that tracks how many calls are in flight
    const { invoke, counted } = lambdaEnvironment();
    const event = tick('bulk', BULK);
    let inFlight = 0;
    let mostInFlight = 0;
    appflowMock.on(StartFlowCommand).callsFake(async (input) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await sleep(100);
      inFlight--;
      return { flowStatus: 'Active', executionId: executionIdOf(input.flowName) };
    });

    // Act
    const result = await invoke(event);

    // Assess: all started, in the tick's order, never more than the limit at once (and the limit reached)
    expect(result).toMatchObject({
      results: BULK.map((flowName) => ({ flowName, outcome: 'started' })),
    });
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, BULK.length);
    expect(mostInFlight).toBe(MAX_CONCURRENT_STARTS);
    expect(inFlight).toBe(0);
    expect(counted).toEqual(BULK.map(() => ({ name: 'FlowStarted' })));
  });

  it('logs one line per flow with the tick as correlation id', async () => {
    // Prepare
    const captured = captureLogs();
    const { invoke } = lambdaEnvironment(
      new Logger({ serviceName: FLOW_STARTER_SERVICE_NAME, logLevel: 'INFO' }),
    );
    const event = tick();
    appflowMock
      .on(DescribeFlowCommand, { flowName: 'ledger.pull' })
      .resolves(described('ledger.pull', { triggerConfig: { triggerType: 'Scheduled' } }));

    // Act
    await invoke(event);
    captured.restore();

    // Assess
    const lines = captured
      .lines()
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => 'flowName' in line);
    expect(lines).toHaveLength(NIGHTLY.length);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          correlation_id: `nightly@${event.scheduledTime}`,
          flowName: 'crm-export',
          outcome: 'started',
          executionId: executionIdOf('crm-export'),
          replayed: false,
        }),
        expect.objectContaining({
          correlation_id: `nightly@${event.scheduledTime}`,
          flowName: 'ledger.pull',
          outcome: 'skipped',
          reason: 'not-on-demand',
          replayed: false,
        }),
      ]),
    );
  });
});

describe('flow starter, a schedule split across several Scheduler schedules', () => {
  // Names of 120 characters: 100 of them make a tick input of about 12,300 characters, over the 8,192 budgeted per schedule.
  const WIDE = Array.from({ length: 100 }, (_, i) =>
    `warehouse-export-${String(i + 1).padStart(3, '0')}-`.padEnd(120, 'x'),
  );
  const wideConfig = parseAppflowConfig({
    schedules: [{ name: 'wide', expression: 'cron(0 3 * * ? *)', flows: WIDE }],
    maxConcurrentStarts: 10,
  });
  const slices = tickSlices(wideConfig.schedules[0]);
  /** One tick of the schedule per slice, as its Scheduler schedules send it: the same scheduled time. */
  const sliceTicks = (scheduledTime: string) =>
    slices.map((flows) => ({ schedule: 'wide', scheduledTime, flows }));

  /** How often StartFlow was called for each flow. */
  const startsPerFlow = () => {
    const starts = new Map<string, number>();
    for (const { flowName } of startFlowInputs()) {
      starts.set(flowName ?? '', (starts.get(flowName ?? '') ?? 0) + 1);
    }
    return starts;
  };

  it('splits the schedule, and its slices together start each flow once per tick', async () => {
    // Prepare: each slice is handled by its own execution environment, as concurrent invocations would be
    const { scheduledTime } = tick('wide', WIDE);

    // Act
    await Promise.all(
      sliceTicks(scheduledTime).map((event) =>
        lambdaEnvironment(undefined, wideConfig).invoke(event),
      ),
    );

    // Assess
    expect(slices.length).toBeGreaterThan(1);
    expect(startsPerFlow()).toEqual(new Map(WIDE.map((flowName) => [flowName, 1])));
  });

  it.each([
    ['the old schedule fires before the new slices', 'full-first'],
    ['the new slices fire before the old schedule', 'slices-first'],
  ] as const)(
    'starts each flow once in the tick of the deploy that splits the schedule (%s)',
    async (_, order) => {
      // Prepare: in that tick both the old schedule (every flow) and the new slices may fire
      const { scheduledTime } = tick('wide', WIDE);
      const full = { schedule: 'wide', scheduledTime, flows: WIDE };
      const ticks =
        order === 'full-first'
          ? [full, ...sliceTicks(scheduledTime)]
          : [...sliceTicks(scheduledTime), full];

      // Act
      for (const event of ticks) await lambdaEnvironment(undefined, wideConfig).invoke(event);

      // Assess
      expect(startsPerFlow()).toEqual(new Map(WIDE.map((flowName) => [flowName, 1])));
    },
  );
});
