/**
 * The flow healer end to end, minus AWS: idempotency records and healing state
 * live in DynamoDB Local, AppFlow, SNS and SQS are mocked, and every test
 * asserts the exact calls made, and that no other call was made.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AppflowClient,
  ConflictException,
  DescribeFlowCommand,
  type FlowStatus,
  InternalServerException,
  ResourceNotFoundException,
  StartFlowCommand,
  ThrottlingException,
  type TriggerType,
} from '@aws-sdk/client-appflow';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  createFlowHealerHandler,
  FLOW_HEALER_DEFERRAL_LIMIT,
} from '../../lambda/appflow/flow-healer';
import { HealingStateStore } from '../../lambda/appflow/healing-state';
import { parseAppflowConfig } from '../../lambda/shared/autoheal-config';
import {
  FLOW_HEALER_SERVICE_NAME,
  HEALING_STATE,
  IDEMPOTENCY_RECORD_TTL_SECONDS,
  MESSAGE_ATTRIBUTES,
} from '../../lambda/shared/contract';
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
  receivedAgain,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import {
  ACCOUNT,
  bufferedHealer,
  HOUR_MS,
  MAX_RECEIVE_COUNT,
  MINUTE_MS,
  queueUrl,
  REGION,
  SECOND_MS,
  TOPIC_ARN,
} from '../support/lambda-env';
import { captureLogs } from '../support/logs';
import { deferredMessage, parkedInvalidEvent } from '../support/sqs-messages';

const WORK_QUEUE_URL = queueUrl('autoheal-flow-healer-work');
const DLQ_URL = queueUrl('autoheal-flow-healer-dlq');

const ON_DEMAND_FLOW = 'crm-accounts-export';
const SCHEDULED_FLOW = 'erp-orders-sync';
/** End of the failed run in run-failed-on-demand.json. */
const RUN_ENDED_AT = Date.parse('2026-03-02T09:49:24.512Z');
/** Time of scheduled-flow-deactivated.json. */
const DEACTIVATED_AT = Date.parse('2026-03-02T09:20:00Z');

// No jitter, so every delay is exact: 300 s × 2^rerunsSoFar; max 2 re-runs; 30 min cool-down;
// at most 3 re-activations in 24 h (the defaults).
const config = parseAppflowConfig({
  schedules: [{ name: 'nightly', expression: 'cron(0 2 * * ? *)', flows: [ON_DEMAND_FLOW] }],
  healedFlows: [SCHEDULED_FLOW],
  healing: { delay: { jitterRatio: 0 } },
  processing: { maxReceiveCount: MAX_RECEIVE_COUNT },
});

const appflowMock = mockClient(AppflowClient);

type AppflowFixture =
  | 'run-failed-on-demand'
  | 'run-failed-scheduled'
  | 'run-succeeded'
  | 'run-cancelled-on-demand';
type AppflowEvent = Record<string, unknown> & { id: string; detail: Record<string, unknown> };

function loadAppflowEvent(name: AppflowFixture | 'scheduled-flow-deactivated'): AppflowEvent {
  const path = join(__dirname, '..', 'fixtures', 'appflow', `${name}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as AppflowEvent;
}

/** Sets fields (`undefined` removes one) on a copy of `target`. */
function changed<T extends Record<string, unknown>>(
  target: T,
  changes: Record<string, unknown>,
): T {
  const copy: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete copy[key];
    else copy[key] = value;
  }
  return copy as T;
}

/** An End Flow Run Report body: by default the failed OnDemand run of the fixture. */
function runEnded(
  detail: Record<string, unknown> = {},
  fixture: AppflowFixture = 'run-failed-on-demand',
) {
  const event = loadAppflowEvent(fixture);
  const body = { ...event, detail: changed(event.detail, detail) };
  return {
    eventId: event.id,
    executionId: String(body.detail['execution-id']),
    body: JSON.stringify(body),
  };
}

/** The failure event of a run Autoheal started: its own id, execution id and end time. */
function rerunFailed(executionId: string, endedAt: number) {
  const event = loadAppflowEvent('run-failed-on-demand');
  return JSON.stringify({
    ...event,
    id: randomUUID(),
    time: new Date(endedAt + 2 * SECOND_MS).toISOString(),
    detail: {
      ...event.detail,
      'execution-id': executionId,
      'end-time': `${new Date(endedAt).toISOString()}[UTC]`,
    },
  });
}

/** A Scheduled Flow Deactivated body: by default the fixture's. */
function deactivated(envelope: Record<string, unknown> = {}, detail: Record<string, unknown> = {}) {
  const event = loadAppflowEvent('scheduled-flow-deactivated');
  const body = changed({ ...event, detail: changed(event.detail, detail) }, envelope);
  return { eventId: String(body.id), body: JSON.stringify(body) };
}

let table: IdempotencyTable;
/** The handler's clock: tests move it. */
let clock: number;

beforeEach(async () => {
  appflowMock.reset();
  resetSnsAndSqsMocks();
  appflowMock.on(StartFlowCommand).resolves({
    flowArn: `arn:aws:appflow:${REGION}:${ACCOUNT}:flow/${ON_DEMAND_FLOW}`,
    flowStatus: 'Active',
    executionId: 'rerun-0001',
  });
  appflowMock.on(DescribeFlowCommand).resolves({
    flowArn: `arn:aws:appflow:${REGION}:${ACCOUNT}:flow/${SCHEDULED_FLOW}`,
    flowName: SCHEDULED_FLOW,
    flowStatus: 'Suspended',
    flowStatusMessage: 'Flow deactivated after 5 consecutive failed runs',
    triggerConfig: { triggerType: 'Scheduled' },
  });
  table = await createIdempotencyTable();
  clock = RUN_ENDED_AT + HOUR_MS;
});

afterEach(async () => {
  jest.restoreAllMocks();
  await table.dispose();
});

/** A handler as Lambda would run it, wired to the mocks and this test's table. */
function buildHandler(logger?: Logger) {
  const { deps, counted: metricsCounted } = bufferedHealer(table, {
    serviceName: FLOW_HEALER_SERVICE_NAME,
    workQueueUrl: WORK_QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    logger,
    now: () => clock,
  });
  const handler = createFlowHealerHandler({
    ...deps,
    config,
    appflow: new AppflowClient({}),
    dynamodb: table.client,
    idempotencyTable: table.tableName,
  });
  const invoke = (...records: SQSRecord[]) => handler(sqsEvent(...records), lambdaContext());
  return { invoke, metricsCounted };
}

/** The healing-state items (not Powertools' idempotency records). */
async function healingState() {
  return (await table.items()).filter((item) =>
    [HEALING_STATE.rerunLineagePrefix, HEALING_STATE.reactivationsPrefix].some((prefix) =>
      String(item.id).startsWith(prefix),
    ),
  );
}

function startFlowInputs() {
  return appflowMock.commandCalls(StartFlowCommand).map(({ args: [command] }) => command.input);
}

const nowSeconds = () => Math.floor(clock / SECOND_MS);

describe('flow healer: failed runs', () => {
  it('re-runs a failed OnDemand run once, with a client token derived from the run, and records the lineage', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const run = runEnded();

    // Act
    const result = await invoke(sqsRecord(run.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, 1);
    expect(startFlowInputs()).toEqual([
      { flowName: ON_DEMAND_FLOW, clientToken: expectedToken(run.executionId, 'rerun', '1') },
    ]);
    expect(appflowMock).not.toHaveReceivedCommand(DescribeFlowCommand);
    expect(await healingState()).toEqual([
      {
        id: `${HEALING_STATE.rerunLineagePrefix}rerun-0001`,
        originExecutionId: run.executionId,
        rerunNumber: 1,
        expiration: nowSeconds() + IDEMPOTENCY_RECORD_TTL_SECONDS,
      },
    ]);
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(metricsCounted).toEqual([{ name: 'FlowRerun' }]);
  });

  it('starts the flow once when the same failure event is delivered twice', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const run = runEnded();

    // Act
    const first = await invoke(sqsRecord(run.body));
    const duplicate = await invoke(sqsRecord(run.body));

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(duplicate).toEqual({ batchItemFailures: [] });
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, 1);
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(metricsCounted).toEqual([{ name: 'FlowRerun' }, { name: 'DuplicateDelivery' }]);
  });

  it('stops re-running at maxReruns: original → re-run 1 → re-run 2 → give-up notice', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    appflowMock
      .on(StartFlowCommand)
      .resolvesOnce({ flowStatus: 'Active', executionId: 'rerun-0001' })
      .resolvesOnce({ flowStatus: 'Active', executionId: 'rerun-0002' })
      .resolves({ flowStatus: 'Active', executionId: 'rerun-0003' });
    const original = runEnded();
    const rerun1EndedAt = RUN_ENDED_AT + HOUR_MS + 3 * MINUTE_MS;
    const rerun2EndedAt = rerun1EndedAt + HOUR_MS + 3 * MINUTE_MS;

    // Act
    clock = RUN_ENDED_AT + HOUR_MS;
    const results = [await invoke(sqsRecord(original.body))];
    // Re-run 1 fails; its event is handled 10 s later: the second delay (600 s) runs from its end
    clock = rerun1EndedAt + 10 * SECOND_MS;
    const rerun1Failure = sqsRecord(rerunFailed('rerun-0001', rerun1EndedAt));
    results.push(await invoke(rerun1Failure));
    clock = rerun1EndedAt + HOUR_MS;
    results.push(await invoke({ ...rerun1Failure, messageId: randomUUID() }));
    clock = rerun2EndedAt + HOUR_MS;
    results.push(await invoke(sqsRecord(rerunFailed('rerun-0002', rerun2EndedAt))));

    // Assess
    for (const result of results) expect(result).toEqual({ batchItemFailures: [] });
    expect(startFlowInputs()).toEqual([
      { flowName: ON_DEMAND_FLOW, clientToken: expectedToken(original.executionId, 'rerun', '1') },
      { flowName: ON_DEMAND_FLOW, clientToken: expectedToken(original.executionId, 'rerun', '2') },
    ]);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: WORK_QUEUE_URL,
      DelaySeconds: 590,
    });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const [notice] = notices();
    expect(notice).toMatchObject({
      TopicArn: TOPIC_ARN,
      Subject: `Autoheal gave up re-running AppFlow flow ${ON_DEMAND_FLOW}`,
      MessageAttributes: {
        kind: stringAttribute('flow-rerun-gave-up'),
        reason: stringAttribute('max-reruns'),
      },
    });
    expect(notice.body).toEqual({
      kind: 'flow-rerun-gave-up',
      reason: 'max-reruns',
      flowName: ON_DEMAND_FLOW,
      executionId: 'rerun-0002',
      originExecutionId: original.executionId,
      reruns: 2,
      detail: 're-ran 2 time(s); maxReruns is 2',
    });
    expect(metricsCounted).toEqual([
      { name: 'FlowRerun' },
      { name: 'Deferred' },
      { name: 'FlowRerun' },
      { name: 'GaveUp', reason: 'max-reruns' },
    ]);
  });

  it.each([
    { secondsSinceEnd: 0, delaySeconds: 300 },
    { secondsSinceEnd: 60, delaySeconds: 240 },
  ])(
    'defers a failed run ended $secondsSinceEnd s ago by $delaySeconds s, with no AppFlow call',
    async ({ secondsSinceEnd, delaySeconds }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      clock = RUN_ENDED_AT + secondsSinceEnd * SECOND_MS;
      const run = runEnded();
      const record = sqsRecord(run.body);

      // Act
      const result = await invoke(record);

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual(
        deferredMessage({
          queueUrl: WORK_QUEUE_URL,
          body: run.body,
          delaySeconds,
          deferrals: 1,
          originMessageId: record.messageId,
        }),
      );
      expect(appflowMock).not.toHaveReceivedAnyCommand();
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(await table.items()).toEqual([]);
      expect(metricsCounted).toEqual([{ name: 'Deferred' }]);
    },
  );

  it.each<{ label: string; fixture: AppflowFixture }>([
    { label: 'a failed run of a scheduled flow', fixture: 'run-failed-scheduled' },
    { label: 'a successful run', fixture: 'run-succeeded' },
    { label: 'an OnDemand run an operator cancelled', fixture: 'run-cancelled-on-demand' },
  ])('ignores $label: no AWS call at all, not even the lineage read', async ({ fixture }) => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const run = runEnded({}, fixture);
    const dynamodbSend = jest.spyOn(table.client, 'send');

    // Act
    const result = await invoke(sqsRecord(run.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appflowMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(dynamodbSend).not.toHaveBeenCalled();
    expect(await table.items()).toEqual([]);
    expect(metricsCounted).toEqual([{ name: 'Ignored' }]);
  });

  it.each([
    new ConflictException({ message: 'Flow is already running', $metadata: {} }),
    new ResourceNotFoundException({ message: 'Flow not found', $metadata: {} }),
  ])(
    'sends one flow-rerun-failed notice when StartFlow refuses with $name, and never retries it',
    async (refusal) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      appflowMock.on(StartFlowCommand).rejects(refusal);
      const run = runEnded();

      // Act
      const first = await invoke(sqsRecord(run.body));
      const redelivery = await invoke(sqsRecord(run.body));

      // Assess
      expect(first).toEqual({ batchItemFailures: [] });
      expect(redelivery).toEqual({ batchItemFailures: [] });
      expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, 1);
      expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
      const [notice] = notices();
      expect(notice.MessageAttributes).toEqual({
        kind: stringAttribute('flow-rerun-failed'),
        reason: stringAttribute('start-flow-refused'),
      });
      expect(notice.body).toMatchObject({
        flowName: ON_DEMAND_FLOW,
        executionId: run.executionId,
        rerunNumber: 1,
        detail: `StartFlow answered ${refusal.name}`,
      });
      expect(await healingState()).toEqual([]);
      expect(metricsCounted).toEqual([
        { name: 'Skipped', reason: `start-flow-refused:${refusal.name}` },
        { name: 'DuplicateDelivery' },
      ]);
    },
  );

  it.each([
    {
      label: 'InternalServerException',
      error: new InternalServerException({ message: 'Try again later', $metadata: {} }),
    },
    {
      label: 'ThrottlingException',
      error: new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }),
    },
    {
      label: 'a network error (ECONNRESET)',
      error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    },
  ])(
    'reports the record as failed on $label, and the retry starts the flow once',
    async ({ error }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      appflowMock
        .on(StartFlowCommand)
        .rejectsOnce(error)
        .resolves({ flowStatus: 'Active', executionId: 'rerun-0001' });
      const run = runEnded();
      const record = sqsRecord(run.body, { receiveCount: 1 });

      // Act
      const first = await invoke(record);
      const retry = await invoke(receivedAgain(record));

      // Assess
      expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
      expect(retry).toEqual({ batchItemFailures: [] });
      const input = {
        flowName: ON_DEMAND_FLOW,
        clientToken: expectedToken(run.executionId, 'rerun', '1'),
      };
      expect(startFlowInputs()).toEqual([input, input]);
      expect(await healingState()).toHaveLength(1);
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(metricsCounted).toEqual([{ name: 'RetryableError' }, { name: 'FlowRerun' }]);
    },
  );
});

describe('flow healer: deactivated flows', () => {
  it('defers a deactivation within its cool-down back to the work queue, with no AppFlow call', async () => {
    // Prepare: 10 of the 30 minutes have passed
    const { invoke, metricsCounted } = buildHandler();
    clock = DEACTIVATED_AT + 10 * MINUTE_MS;
    const event = deactivated();
    const record = sqsRecord(event.body);

    // Act
    const result = await invoke(record);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual(
      deferredMessage({
        queueUrl: WORK_QUEUE_URL,
        body: event.body,
        // 1200 s remain; SQS delays at most 900 s per hop
        delaySeconds: 900,
        deferrals: 1,
        originMessageId: record.messageId,
      }),
    );
    expect(appflowMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(await table.items()).toEqual([]);
    expect(metricsCounted).toEqual([{ name: 'Deferred' }]);
  });

  it('parks a deactivation deferred as often as the longest cool-down allows, instead of deferring it again', async () => {
    // Prepare: still within the cool-down, and every hop the limit allows was taken
    const { invoke, metricsCounted } = buildHandler();
    clock = DEACTIVATED_AT + 10 * MINUTE_MS;
    const event = deactivated();
    const record = sqsRecord(event.body, {
      messageAttributes: {
        [MESSAGE_ATTRIBUTES.deferrals]: String(FLOW_HEALER_DEFERRAL_LIMIT),
        [MESSAGE_ATTRIBUTES.originMessageId]: 'first-message-id',
      },
    });

    // Act
    const result = await invoke(record);

    // Assess: 24 h of cool-down at most, plus 5 min of skew, is 97 hops; twice that is the limit
    expect(FLOW_HEALER_DEFERRAL_LIMIT).toBe(194);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual({
      QueueUrl: DLQ_URL,
      MessageBody: event.body,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.parkedReason]: stringAttribute(
          expect.stringMatching(/^deferral-limit: deferred 194 times/),
        ),
        [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute('first-message-id'),
      },
    });
    expect(appflowMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(metricsCounted).toEqual([{ name: 'Parked', reason: 'deferral-limit' }]);
  });

  it('re-activates a deactivated scheduled flow after its cool-down, with a notice', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    clock = DEACTIVATED_AT + 31 * MINUTE_MS;
    const event = deactivated();

    // Act
    const result = await invoke(sqsRecord(event.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appflowMock).toHaveReceivedCommandWith(DescribeFlowCommand, {
      flowName: SCHEDULED_FLOW,
    });
    expect(startFlowInputs()).toEqual([
      {
        flowName: SCHEDULED_FLOW,
        clientToken: expectedToken(SCHEDULED_FLOW, 'reactivate', event.eventId),
      },
    ]);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const [notice] = notices();
    expect(notice).toMatchObject({
      TopicArn: TOPIC_ARN,
      Subject: `Autoheal re-activated AppFlow flow ${SCHEDULED_FLOW}`,
      MessageAttributes: { kind: stringAttribute('flow-reactivated') },
    });
    expect(notice.body).toMatchObject({
      kind: 'flow-reactivated',
      flowName: SCHEDULED_FLOW,
      eventId: event.eventId,
      deactivatedAt: new Date(DEACTIVATED_AT).toISOString(),
      previousStatus: 'Suspended',
      reactivations: 1,
      maxReactivations: 3,
    });
    expect(await healingState()).toEqual([
      {
        id: `${HEALING_STATE.reactivationsPrefix}${SCHEDULED_FLOW}`,
        reactivatedAt: [nowSeconds()],
        expiration: nowSeconds() + IDEMPOTENCY_RECORD_TTL_SECONDS,
      },
    ]);
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(metricsCounted).toEqual([{ name: 'FlowReactivated' }]);
  });

  it('re-activates once when the same deactivation is delivered twice', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    clock = DEACTIVATED_AT + HOUR_MS;
    const event = deactivated();

    // Act
    await invoke(sqsRecord(event.body));
    const duplicate = await invoke(sqsRecord(event.body));

    // Assess
    expect(duplicate).toEqual({ batchItemFailures: [] });
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, 1);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(metricsCounted).toEqual([{ name: 'FlowReactivated' }, { name: 'DuplicateDelivery' }]);
  });

  it('gives up with a notice once maxReactivations were reached within the window', async () => {
    // Prepare: four deactivations two hours apart, each handled 31 minutes after it
    const { invoke, metricsCounted } = buildHandler();
    const times = [0, 2, 4, 6].map((h) => DEACTIVATED_AT + h * HOUR_MS);
    const events = times.map((time) =>
      deactivated({ id: randomUUID(), time: new Date(time).toISOString() }),
    );

    // Act
    const results = [];
    for (const [i, event] of events.entries()) {
      clock = times[i] + 31 * MINUTE_MS;
      results.push(await invoke(sqsRecord(event.body)));
    }

    // Assess
    for (const result of results) expect(result).toEqual({ batchItemFailures: [] });
    expect(startFlowInputs()).toEqual(
      events.slice(0, 3).map(({ eventId }) => ({
        flowName: SCHEDULED_FLOW,
        clientToken: expectedToken(SCHEDULED_FLOW, 'reactivate', eventId),
      })),
    );
    const sent = notices();
    expect(sent.map((notice) => notice.body.kind)).toEqual([
      'flow-reactivated',
      'flow-reactivated',
      'flow-reactivated',
      'flow-reactivation-gave-up',
    ]);
    expect(sent[3].MessageAttributes).toEqual({
      kind: stringAttribute('flow-reactivation-gave-up'),
      reason: stringAttribute('max-reactivations'),
    });
    expect(sent[3].body).toMatchObject({
      flowName: SCHEDULED_FLOW,
      eventId: events[3].eventId,
      reactivations: 3,
      windowHours: 24,
    });
    expect(metricsCounted).toEqual([
      { name: 'FlowReactivated' },
      { name: 'FlowReactivated' },
      { name: 'FlowReactivated' },
      { name: 'GaveUp', reason: 'max-reactivations' },
    ]);
  });

  it('does not count re-activations older than the window, and drops them from the state', async () => {
    // Prepare: re-activations 30 h, 20 h and 1 h before now
    const { invoke, metricsCounted } = buildHandler();
    clock = DEACTIVATED_AT + HOUR_MS;
    const store = new HealingStateStore(table.client, table.tableName, () => clock);
    for (const hoursAgo of [30, 20, 1]) {
      await store.recordReactivation(SCHEDULED_FLOW, nowSeconds() - hoursAgo * 3600, 100 * 3600);
    }

    // Act
    const result = await invoke(sqsRecord(deactivated().body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, 1);
    expect(notices()[0].body).toMatchObject({ kind: 'flow-reactivated', reactivations: 3 });
    expect(await store.getRecentReactivations(SCHEDULED_FLOW)).toEqual([
      nowSeconds() - 20 * 3600,
      nowSeconds() - 3600,
      nowSeconds(),
    ]);
    expect(metricsCounted).toEqual([{ name: 'FlowReactivated' }]);
  });

  it('still sends the re-activation notice, and logs an error, when the re-activation cannot be recorded', async () => {
    // Prepare: DynamoDB refuses the write of the re-activation list (and only that)
    const logger = new Logger({ serviceName: FLOW_HEALER_SERVICE_NAME });
    const logged = jest.spyOn(logger, 'error');
    jest.spyOn(logger, 'createChild').mockReturnValue(logger);
    const { invoke, metricsCounted } = buildHandler(logger);
    clock = DEACTIVATED_AT + HOUR_MS;
    const send = table.client.send.bind(table.client) as (command: unknown) => Promise<unknown>;
    jest.spyOn(table.client, 'send').mockImplementation((async (command: unknown) => {
      const id = command instanceof PutItemCommand ? command.input.Item?.id?.S : undefined;
      if (id?.startsWith(HEALING_STATE.reactivationsPrefix)) {
        throw Object.assign(new Error('Throughput exceeded'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      return send(command);
    }) as never);

    // Act
    const result = await invoke(sqsRecord(deactivated().body));

    // Assess: the flow is Active now, so a retry would find nothing to do; the notice goes out
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, 1);
    expect(notices().map((notice) => notice.body.kind)).toEqual(['flow-reactivated']);
    expect(logged).toHaveBeenCalledWith(
      'Flow re-activated, but re-activation not recorded (ProvisionedThroughputExceededException)',
    );
    expect(metricsCounted).toEqual([{ name: 'FlowReactivated' }]);
  });

  it.each<{ flowStatus: FlowStatus; triggerType: TriggerType }>([
    { flowStatus: 'Active', triggerType: 'Scheduled' },
    { flowStatus: 'Suspended', triggerType: 'OnDemand' },
  ])(
    'does nothing for a flow that is $flowStatus with trigger type $triggerType',
    async ({ flowStatus, triggerType }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      clock = DEACTIVATED_AT + HOUR_MS;
      appflowMock
        .on(DescribeFlowCommand)
        .resolves({ flowName: SCHEDULED_FLOW, flowStatus, triggerConfig: { triggerType } });

      // Act
      const result = await invoke(sqsRecord(deactivated().body));

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(appflowMock).toHaveReceivedCommandTimes(DescribeFlowCommand, 1);
      expect(appflowMock).not.toHaveReceivedCommand(StartFlowCommand);
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(await healingState()).toEqual([]);
      expect(metricsCounted).toEqual([{ name: 'Ignored' }]);
    },
  );

  it('sends a skip notice for a deactivated flow that no longer exists', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    clock = DEACTIVATED_AT + HOUR_MS;
    appflowMock
      .on(DescribeFlowCommand)
      .rejects(new ResourceNotFoundException({ message: 'Flow not found', $metadata: {} }));

    // Act
    const result = await invoke(sqsRecord(deactivated().body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appflowMock).not.toHaveReceivedCommand(StartFlowCommand);
    expect(notices().map((notice) => notice.MessageAttributes)).toEqual([
      {
        kind: stringAttribute('flow-reactivation-skipped'),
        reason: stringAttribute('flow-not-found'),
      },
    ]);
    expect(metricsCounted).toEqual([{ name: 'Skipped', reason: 'flow-not-found' }]);
  });

  it('sends a flow-reactivation-failed notice when StartFlow refuses', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    clock = DEACTIVATED_AT + HOUR_MS;
    appflowMock
      .on(StartFlowCommand)
      .rejects(new ConflictException({ message: 'Flow is being updated', $metadata: {} }));

    // Act
    const result = await invoke(sqsRecord(deactivated().body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(appflowMock).toHaveReceivedCommandTimes(StartFlowCommand, 1);
    const [notice] = notices();
    expect(notice.MessageAttributes).toEqual({
      kind: stringAttribute('flow-reactivation-failed'),
      reason: stringAttribute('start-flow-refused'),
    });
    expect(notice.body).toMatchObject({ detail: 'StartFlow answered ConflictException' });
    expect(await healingState()).toEqual([]);
    expect(metricsCounted).toEqual([
      { name: 'Skipped', reason: 'start-flow-refused:ConflictException' },
    ]);
  });
});

describe('healing state', () => {
  it('keeps both re-activations when another writer records one between its read and its write', async () => {
    // Prepare: a second writer (own client) records right before this store's first PutItem
    const store = new HealingStateStore(table.client, table.tableName, () => clock);
    const otherClient = new DynamoDBClient({});
    const other = new HealingStateStore(otherClient, table.tableName, () => clock);
    const window = 24 * 3600;
    const [first, second] = [nowSeconds() - 60, nowSeconds()];
    const send = table.client.send.bind(table.client) as (command: unknown) => Promise<unknown>;
    const commands: string[] = [];
    jest.spyOn(table.client, 'send').mockImplementation((async (command: unknown) => {
      commands.push((command as object).constructor.name);
      if (command instanceof PutItemCommand && commands.length === 2) {
        await other.recordReactivation(SCHEDULED_FLOW, first, window);
      }
      return send(command);
    }) as never);

    // Act
    try {
      await store.recordReactivation(SCHEDULED_FLOW, second, window);
    } finally {
      otherClient.destroy();
    }

    // Assess: the first write was refused, re-read and retried
    expect(commands).toEqual([
      'GetItemCommand',
      'PutItemCommand',
      'GetItemCommand',
      'PutItemCommand',
    ]);
    expect(await store.getRecentReactivations(SCHEDULED_FLOW)).toEqual([first, second]);
  });

  it('reads no lineage for a run Autoheal did not start, and the lineage of one it did', async () => {
    // Prepare
    const store = new HealingStateStore(table.client, table.tableName, () => clock);
    await store.putRerunLineage('rerun-0002', 'origin-0000', 2);

    // Act
    const unknown = await store.getRerunLineage('origin-0000');
    const known = await store.getRerunLineage('rerun-0002');

    // Assess
    expect(unknown).toBeUndefined();
    expect(known).toEqual({ originExecutionId: 'origin-0000', rerunNumber: 2 });
  });

  it('treats a lineage record past its TTL as gone (TTL deletion lags)', async () => {
    // Prepare
    const store = new HealingStateStore(table.client, table.tableName, () => clock);
    await store.putRerunLineage('rerun-0001', 'origin-0000', 1);
    const later = new HealingStateStore(
      table.client,
      table.tableName,
      () => clock + (IDEMPOTENCY_RECORD_TTL_SECONDS + 1) * SECOND_MS,
    );

    // Act
    const lineage = await later.getRerunLineage('rerun-0001');

    // Assess
    expect(await healingState()).toHaveLength(1);
    expect(lineage).toBeUndefined();
  });
});

describe('flow healer: invalid events', () => {
  it.each([
    {
      problem: 'a body that is not JSON',
      body: () => 'rerun crm-accounts-export {',
      field: 'body',
    },
    {
      problem: 'a run report without execution-id',
      body: () => runEnded({ 'execution-id': undefined }).body,
      field: 'detail.execution-id',
    },
    {
      problem: 'a failed run of a flow outside the scope',
      body: () => runEnded({ 'flow-name': 'hr-payroll-import' }).body,
      field: 'detail.flow-name',
    },
    {
      problem: 'a deactivation of a flow outside the scope',
      body: () => deactivated({}, { 'flow-name': 'hr-payroll-import' }).body,
      field: 'detail.flow-name',
    },
    {
      problem: 'a failed run whose end-time lies a day ahead (it would be deferred forever)',
      body: () =>
        runEnded({ 'end-time': `${new Date(clock + 24 * HOUR_MS).toISOString()}[UTC]` }).body,
      field: 'detail.end-time',
    },
    {
      problem: 'a deactivation whose time lies a day ahead (its cool-down would never end)',
      body: () => deactivated({ time: new Date(clock + 24 * HOUR_MS).toISOString() }).body,
      field: 'time',
    },
  ])(
    'parks $problem in the DLQ naming the field, with no AppFlow or SNS call',
    async ({ body, field }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const record = sqsRecord(body());

      // Act
      const result = await invoke(record);

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(appflowMock).not.toHaveReceivedAnyCommand();
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual(
        parkedInvalidEvent(DLQ_URL, record, field),
      );
      expect(await table.items()).toEqual([]);
      expect(metricsCounted).toEqual([{ name: 'InvalidEvent' }]);
    },
  );

  it('never logs the run error or record counts, even at DEBUG level', async () => {
    // Prepare
    const logger = new Logger({ serviceName: FLOW_HEALER_SERVICE_NAME, logLevel: 'DEBUG' });
    const { invoke } = buildHandler(logger);
    const secret = `s3cr3t-${randomUUID()}`;
    const data = { error: `record of ${secret} failed`, 'num-of-record-failures': secret };
    const rerun = runEnded(data);
    const throttled = runEnded({ ...data, 'execution-id': randomUUID() });
    appflowMock
      .on(StartFlowCommand, { clientToken: expectedToken(throttled.executionId, 'rerun', '1') })
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));
    const malformed = runEnded({ ...data, status: undefined });
    const captured = captureLogs();

    // Act
    const result = await invoke(
      sqsRecord(rerun.body),
      sqsRecord(throttled.body),
      sqsRecord(malformed.body),
    );
    captured.restore();

    // Assess: the logs were captured (so the check below means something) and hold no secret.
    expect(result.batchItemFailures).toHaveLength(1);
    const logs = captured.text();
    expect(logs).toContain(rerun.executionId);
    expect(logs).toContain('Will retry');
    expect(logs).toContain('Invalid event parked in the dead-letter queue');
    expect(logs).not.toContain(secret);
  });
});
