/**
 * The redrive handler end to end, minus AWS: idempotency records live in
 * DynamoDB Local, Step Functions, SNS and SQS are mocked, and every test
 * asserts the exact calls made, and that no other call was made.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  ExecutionNotRedrivable,
  RedriveExecutionCommand,
  SFNServiceException,
} from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { App, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { SQSRecord } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import {
  advanceClock,
  clockConfigOf,
  liveSinceDocument,
  NOT_LIVE,
} from '../../lambda/redrive/live-healing';
import { createLiveHealingClock } from '../../lambda/redrive/live-healing-clock';
import { liveSinceSource } from '../../lambda/redrive/live-since-source';
import { REDRIVE_DEFERRAL_LIMIT } from '../../lambda/redrive/redrive-processor';
import { parseRedriveConfig, type RedriveConfig } from '../../lambda/shared/autoheal-config';
import type { RedriveHandlerConfig } from '../../lambda/shared/config/redrive-config';
import {
  CONFIG_FILE_NAME,
  CONFIG_SECTION,
  ENV,
  LIVE_HEALING_CLOCK,
  MESSAGE_ATTRIBUTES,
  REDRIVE_SERVICE_NAME,
  SWEEPER_ORIGIN,
} from '../../lambda/shared/contract';
import { readNormalisedConfig } from '../../lambda/shared/normalised-config';
import { configFromProps } from '../../lib/config-from-props';
import { stageConfigAsset } from '../../lib/constructs/config-asset';
import { notices, snsMock, sqsMock, stringAttribute } from '../support/aws-mocks';
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
  HOUR_MS,
  MAX_RECEIVE_COUNT,
  MINUTE_MS,
  REGION,
  TOPIC_ARN,
} from '../support/lambda-env';
import { clockRequest, liveSinceFor } from '../support/live-since';
import { captureLogs } from '../support/logs';
import {
  DLQ_URL,
  NOW,
  redriveHandler,
  resetRedriveMocks,
  sfnMock,
  WORK_QUEUE_URL,
} from '../support/redrive-harness';
import { deferredMessage, parkedInvalidEvent } from '../support/sqs-messages';

// No jitter, so every delay below is exact: 60 s × 4^redriveCount, capped at 3600 s.
const rawConfig = {
  stateMachineNamePrefixes: ['orders-'],
  delay: { jitterRatio: 0 },
  overrides: {
    'orders-observed': { observeOnly: true },
    'orders-payments': { errors: { deny: ['Payment.*'] } },
  },
  processing: { maxReceiveCount: MAX_RECEIVE_COUNT },
};
const config = parseRedriveConfig(rawConfig);

interface ChangeOptions {
  readonly machine?: string;
  /** Detail fields to set; `undefined` drops a field (as older events lack the redrive fields). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A `Step Functions Execution Status Change` event: by default a redrivable FAILED execution. */
function statusChange({ machine = 'orders-fulfilment', detail = {} }: ChangeOptions = {}) {
  const name = `order-${randomUUID()}`;
  const stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`;
  const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`;
  const event = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: new Date(NOW - 10 * MINUTE_MS).toISOString(),
    region: REGION,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn,
      name,
      status: 'FAILED',
      startDate: NOW - 12 * MINUTE_MS,
      stopDate: NOW - 10 * MINUTE_MS,
      input: '{"orderId":"o-1001"}',
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      stateMachineVersionArn: null,
      stateMachineAliasArn: null,
      redriveCount: 0,
      redriveDate: null,
      redriveStatus: 'REDRIVABLE',
      redriveStatusReason: null,
      error: 'Lambda.ServiceException',
      cause: 'Lambda was unable to process the request',
      ...detail,
    },
  };
  return { executionArn, stateMachineArn, body: JSON.stringify(event) };
}

function sdkError(name: string, httpStatusCode: number, fault: 'client' | 'server') {
  return new SFNServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode },
    message: name,
  });
}

let table: IdempotencyTable;

beforeEach(async () => {
  resetRedriveMocks();
  table = await createIdempotencyTable();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await table.dispose();
});

/** A handler as Lambda would run it, wired to the mocks and this test's idempotency table. */
function buildHandler(logger?: Logger) {
  const { handler, counted: metricsCounted } = redriveHandler(table, config, logger);
  const invoke = (...records: SQSRecord[]) => handler(sqsEvent(...records), lambdaContext());
  return { invoke, metricsCounted };
}

/** Asserts the handler called neither Step Functions nor SQS and published exactly one notice; returns it. */
function theOnlyNotice() {
  expect(sfnMock).not.toHaveReceivedAnyCommand();
  expect(sqsMock).not.toHaveReceivedAnyCommand();
  expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  const [notice] = notices();
  return notice;
}

describe('redrive handler', () => {
  it.each(['FAILED', 'TIMED_OUT'])(
    'redrives an eligible %s execution once, with a client token derived from the failure',
    async (status) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange({ detail: { status, redriveCount: 1 } });

      // Act
      const result = await invoke(sqsRecord(change.body));

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
      const [redrive] = sfnMock.commandCalls(RedriveExecutionCommand);
      expect(redrive.args[0].input).toEqual({
        executionArn: change.executionArn,
        clientToken: expectedToken(change.executionArn, 1),
      });
      expect(redrive.args[0].input.clientToken).toMatch(/^[0-9a-f]{64}$/);
      expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(metricsCounted).toEqual([{ name: 'Redriven' }]);
    },
  );

  it.each([
    // redriveCount, seconds since the execution stopped, expected SQS delay
    { redriveCount: 0, secondsSinceStop: 15, delaySeconds: 45 },
    { redriveCount: 1, secondsSinceStop: 0, delaySeconds: 240 },
    // 960 s due in 950 s: more than SQS allows, so the first hop is 900 s
    { redriveCount: 2, secondsSinceStop: 10, delaySeconds: 900 },
  ])(
    'defers a failure whose delay has not elapsed (redriveCount $redriveCount, stopped $secondsSinceStop s ago) by $delaySeconds s',
    async ({ redriveCount, secondsSinceStop, delaySeconds }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange({
        detail: { redriveCount, stopDate: NOW - secondsSinceStop * 1000 },
      });
      const record = sqsRecord(change.body);

      // Act
      const result = await invoke(record);

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual(
        deferredMessage({
          queueUrl: WORK_QUEUE_URL,
          body: change.body,
          delaySeconds,
          deferrals: 1,
          originMessageId: record.messageId,
        }),
      );
      expect(sfnMock).not.toHaveReceivedAnyCommand();
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(metricsCounted).toEqual([{ name: 'Deferred' }]);
      // A deferral is not the failure's one action: nothing is recorded yet.
      expect(await table.items()).toEqual([]);
    },
  );

  it('counts hops and keeps the first message id when deferring an already deferred failure', async () => {
    // Prepare: attempt 3 is due 960 s after the stop, 60 s have passed, 2 hops were taken before
    const { invoke } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 2, stopDate: NOW - 60_000 } });
    const hop = sqsRecord(change.body, {
      messageAttributes: {
        [MESSAGE_ATTRIBUTES.deferrals]: '2',
        [MESSAGE_ATTRIBUTES.originMessageId]: 'first-message-id',
      },
    });

    // Act
    const result = await invoke(hop);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual(
      deferredMessage({
        queueUrl: WORK_QUEUE_URL,
        body: change.body,
        delaySeconds: 900,
        deferrals: 3,
        originMessageId: 'first-message-id',
      }),
    );
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
  });

  it("keeps the sweeper's origin on the messages it makes from a swept failure: a deferral hop, then its parking", async () => {
    // Prepare: attempt 2 is due 240 s after the stop; the hop, received again, meets a broken Step Functions on its last receive
    const { invoke } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 1, stopDate: NOW - 60_000 } });
    const swept = sqsRecord(change.body, {
      messageAttributes: { [MESSAGE_ATTRIBUTES.origin]: SWEEPER_ORIGIN },
    });

    // Act
    await invoke(swept);
    const hop = sqsMock.commandCalls(SendMessageCommand)[0].args[0].input;
    sqsMock.resetHistory();
    sfnMock.on(RedriveExecutionCommand).rejects(sdkError('SFNServiceException', 500, 'server'));
    const dueChange = statusChange({ detail: { redriveCount: 1, stopDate: NOW - 300_000 } });
    await invoke(
      sqsRecord(dueChange.body, {
        receiveCount: MAX_RECEIVE_COUNT,
        messageAttributes: Object.fromEntries(
          Object.entries(hop.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            value.StringValue as string,
          ]),
        ),
      }),
    );
    const parked = sqsMock.commandCalls(SendMessageCommand)[0].args[0].input;

    // Assess
    expect(hop).toEqual(
      deferredMessage({
        queueUrl: WORK_QUEUE_URL,
        body: change.body,
        delaySeconds: 180,
        deferrals: 1,
        originMessageId: swept.messageId,
        origin: SWEEPER_ORIGIN,
      }),
    );
    expect(parked.QueueUrl).toBe(DLQ_URL);
    expect(parked.MessageAttributes).toMatchObject({
      [MESSAGE_ATTRIBUTES.origin]: stringAttribute(SWEEPER_ORIGIN),
      [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute(swept.messageId),
    });
  });

  it('gives up at maxRedrives with one notice and no redrive', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ detail: { redriveCount: config.maxRedrives } });

    // Act
    const result = await invoke(sqsRecord(change.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const notice = theOnlyNotice();
    expect(notice).toMatchObject({
      TopicArn: TOPIC_ARN,
      MessageAttributes: {
        kind: stringAttribute('redrive-gave-up'),
        reason: stringAttribute('max-redrives'),
      },
    });
    expect(notice.Subject).toBe(`Autoheal gave up on ${change.executionArn.split(':').at(-1)}`);
    expect(notice.body).toMatchObject({
      kind: 'redrive-gave-up',
      reason: 'max-redrives',
      executionArn: change.executionArn,
      redriveCount: 3,
      detail: 'redriven 3 time(s); maxRedrives is 3',
    });
    expect(metricsCounted).toEqual([{ name: 'GaveUp' }]);
  });

  describe('a failure from before live healing began (a dead-letter replay, a message in flight at the upgrade)', () => {
    /** Live healing of every scoped machine began with the deploy an hour before NOW. */
    const deployedAnHourAgo = () =>
      redriveHandler(table, config, undefined, liveSinceFor(config, NOW - HOUR_MS));

    it('is not redriven: one notice, recorded once, no Step Functions call', async () => {
      // Prepare
      const { handler, counted } = deployedAnHourAgo();
      const change = statusChange({
        detail: { stopDate: NOW - 24 * HOUR_MS, startDate: NOW - 25 * HOUR_MS },
      });
      const record = sqsRecord(change.body);

      // Act
      const first = await handler(sqsEvent(record), lambdaContext());
      const replayed = await handler(sqsEvent(receivedAgain(record)), lambdaContext());

      // Assess
      expect(first).toEqual({ batchItemFailures: [] });
      expect(replayed).toEqual({ batchItemFailures: [] });
      const notice = theOnlyNotice();
      expect(notice.MessageAttributes).toEqual({
        kind: stringAttribute('redrive-skipped'),
        reason: stringAttribute('before-live-healing'),
      });
      expect(notice.body).toMatchObject({
        executionArn: change.executionArn,
        detail: expect.stringContaining(
          `before live healing of its state machine began at ${new Date(NOW - HOUR_MS).toISOString()}`,
        ),
      });
      expect(counted).toEqual([
        { name: 'Skipped', reason: 'before-live-healing' },
        { name: 'DuplicateDelivery' },
      ]);
    });

    it('is not redriven when the deployment has no live-healing start for its machine', async () => {
      // Prepare
      const { handler } = redriveHandler(table, config, undefined, NOT_LIVE);
      const change = statusChange();

      // Act
      const result = await handler(sqsEvent(sqsRecord(change.body)), lambdaContext());

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sfnMock).not.toHaveReceivedAnyCommand();
      expect(notices().map((n) => n.MessageAttributes?.reason)).toEqual([
        stringAttribute('before-live-healing'),
      ]);
    });

    it.each([
      {
        label: 'aborted before: skipped, no Step Functions call',
        stoppedAgo: 2 * HOUR_MS,
        redrives: 0,
        reasons: ['before-live-healing'],
      },
      { label: 'aborted after: redriven', stoppedAgo: 10 * MINUTE_MS, redrives: 1, reasons: [] },
    ])(
      'ABORTED added to statuses an hour ago, an execution $label',
      async ({ stoppedAgo, redrives, reasons }) => {
        // Prepare: deployed two days ago; ABORTED joined the statuses an hour ago
        const withAborted = parseRedriveConfig({
          ...rawConfig,
          statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        });
        const before = clockConfigOf(config);
        const after = clockConfigOf(withAborted);
        const clock = advanceClock(
          advanceClock(undefined, before, NOW - 48 * HOUR_MS),
          after,
          NOW - HOUR_MS,
        );
        const { handler } = redriveHandler(
          table,
          withAborted,
          undefined,
          liveSinceDocument(clock, after),
        );
        const change = statusChange({
          detail: {
            status: 'ABORTED',
            stopDate: NOW - stoppedAgo,
            startDate: NOW - stoppedAgo - MINUTE_MS,
          },
        });

        // Act
        const result = await handler(sqsEvent(sqsRecord(change.body)), lambdaContext());

        // Assess
        expect(result).toEqual({ batchItemFailures: [] });
        expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, redrives);
        expect(notices().map((n) => n.MessageAttributes?.reason)).toEqual(
          reasons.map(stringAttribute),
        );
      },
    );

    it('redrives a failure that stopped after live healing began, with the usual 3 calls at most', async () => {
      // Prepare
      const { handler, counted } = deployedAnHourAgo();
      const change = statusChange();

      // Act
      const result = await handler(sqsEvent(sqsRecord(change.body)), lambdaContext());

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
      expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(counted).toEqual([{ name: 'Redriven' }]);
    });
  });

  it.each([
    { machine: 'orders-fulfilment', error: 'States.Runtime', rule: 'States.Runtime' },
    {
      machine: 'orders-fulfilment',
      error: 'States.NoChoiceMatched',
      rule: 'States.NoChoiceMatched',
    },
    { machine: 'orders-payments', error: 'Payment.CardDeclined', rule: 'Payment.*' },
  ])(
    'sends a notice naming the deny entry $rule for error $error, and does not redrive',
    async ({ machine, error, rule }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange({ machine, detail: { error } });

      // Act
      const result = await invoke(sqsRecord(change.body));

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      const notice = theOnlyNotice();
      expect(notice.MessageAttributes).toEqual({
        kind: stringAttribute('redrive-skipped'),
        reason: stringAttribute('error-denied'),
      });
      expect(notice.body).toMatchObject({
        executionArn: change.executionArn,
        error,
        detail: `error ${error} matches deny entry ${rule}`,
      });
      expect(metricsCounted).toEqual([{ name: 'Skipped', reason: 'error-denied' }]);
    },
  );

  it.each([
    { status: 'RUNNING', redriveCount: 0, redriveStatus: 'NOT_REDRIVABLE' },
    { status: 'SUCCEEDED', redriveCount: 0, redriveStatus: 'NOT_REDRIVABLE' },
    // A redriven execution announces itself: RUNNING, count incremented, REDRIVE_IN_PROGRESS
    { status: 'RUNNING', redriveCount: 1, redriveStatus: 'REDRIVE_IN_PROGRESS' },
    { status: 'FAILED', redriveCount: 1, redriveStatus: 'REDRIVE_IN_PROGRESS' },
  ])(
    'makes no AWS call for status $status with redriveStatus $redriveStatus',
    async ({ status, redriveCount, redriveStatus }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange({
        detail: { status, redriveCount, redriveStatus, error: null, cause: null },
      });

      // Act
      const result = await invoke(sqsRecord(change.body));

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sfnMock).not.toHaveReceivedAnyCommand();
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(await table.items()).toEqual([]);
      expect(metricsCounted).toEqual([{ name: 'Ignored' }]);
    },
  );

  it('describes an older-format event (no redrive fields) and redrives with the described redriveCount', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({
      detail: {
        redriveCount: undefined,
        redriveDate: undefined,
        redriveStatus: undefined,
        redriveStatusReason: undefined,
      },
    });
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: change.executionArn,
      stateMachineArn: change.stateMachineArn,
      status: 'FAILED',
      startDate: new Date(NOW - 12 * MINUTE_MS),
      stopDate: new Date(NOW - 10 * MINUTE_MS),
      redriveCount: 1,
      redriveStatus: 'REDRIVABLE',
      error: 'Lambda.ServiceException',
    });

    // Act
    const result = await invoke(sqsRecord(change.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnMock.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'DescribeExecutionCommand',
      'RedriveExecutionCommand',
    ]);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: change.executionArn,
    });
    expect(sfnMock.commandCalls(RedriveExecutionCommand)[0].args[0].input).toEqual({
      executionArn: change.executionArn,
      clientToken: expectedToken(change.executionArn, 1),
    });
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(metricsCounted).toEqual([{ name: 'Redriven' }]);
  });

  it('records an execution that no longer exists as a skip: one execution-not-found notice, none on redelivery', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ detail: { redriveCount: undefined, redriveStatus: undefined } });
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));

    // Act
    const first = await invoke(sqsRecord(change.body));
    const redelivery = await invoke(sqsRecord(change.body));

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(redelivery).toEqual({ batchItemFailures: [] });
    expect(sfnMock.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'DescribeExecutionCommand',
      'DescribeExecutionCommand',
    ]);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: change.executionArn,
    });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const [notice] = notices();
    expect(notice).toMatchObject({
      TopicArn: TOPIC_ARN,
      MessageAttributes: {
        kind: stringAttribute('redrive-skipped'),
        reason: stringAttribute('execution-not-found'),
      },
    });
    expect(notice.body).toMatchObject({
      executionArn: change.executionArn,
      stateMachineArn: change.stateMachineArn,
      redriveCount: 0,
      detail: expect.stringContaining('ExecutionDoesNotExist'),
    });
    // Neither a dead-letter page nor a retry: the skip is the failure's recorded action.
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(await table.items()).toEqual([
      expect.objectContaining({
        status: 'COMPLETED',
        // The record says which failure, when and why on its own (autoheal history reads it).
        data: {
          outcome: 'skipped',
          reason: 'execution-not-found',
          failureKey: `${change.executionArn}#0`,
          at: new Date(NOW).toISOString(),
          errorName: 'Lambda.ServiceException',
        },
      }),
    ]);
    expect(metricsCounted).toEqual([
      { name: 'Skipped', reason: 'execution-not-found' },
      { name: 'DuplicateDelivery' },
    ]);
  });

  it('ignores a failed Distributed Map child run: no call, no notice, no record, counted as ignored', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const child = statusChange({ machine: 'orders-eu.v2' });
    const body = child.body.replaceAll(
      `:execution:orders-eu.v2:`,
      ':execution:orders-eu.v2/ProcessOrderLines:',
    );

    // Act
    const result = await invoke(sqsRecord(body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(await table.items()).toEqual([]);
    expect(metricsCounted).toEqual([{ name: 'Ignored' }]);
  });

  it.each(['orders-eu.v2', 'orders-a@b', 'orders-x+y=z!', 'orders-Bestellungen-ü'])(
    'redrives an in-scope failure of %s (a name with characters beyond [A-Za-z0-9_-])',
    async (machine) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange({ machine, detail: { redriveCount: 1 } });

      // Act
      const result = await invoke(sqsRecord(change.body));

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
      expect(sfnMock.commandCalls(RedriveExecutionCommand)[0].args[0].input).toEqual({
        executionArn: change.executionArn,
        clientToken: expectedToken(change.executionArn, 1),
      });
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(metricsCounted).toEqual([{ name: 'Redriven' }]);
    },
  );

  it.each([
    { label: 'a day ahead', stopDate: NOW + 24 * 60 * MINUTE_MS },
    { label: 'ahead by a unit mix-up (epoch ms × 1000)', stopDate: NOW * 1000 },
  ])(
    'parks a failure whose stopDate lies $label as invalid, naming detail.stopDate, with no AWS call',
    async ({ stopDate }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange({ detail: { stopDate } });
      const record = sqsRecord(change.body);

      // Act
      const result = await invoke(record);

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual(
        parkedInvalidEvent(DLQ_URL, record, 'detail.stopDate'),
      );
      expect(sfnMock).not.toHaveReceivedAnyCommand();
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(metricsCounted).toEqual([{ name: 'InvalidEvent' }]);
    },
  );

  it('parks a message that was deferred as often as the longest delay allows, instead of deferring it again', async () => {
    // Prepare: attempt 3 is not due for another 900 s, and the message has taken every hop it may
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 2, stopDate: NOW - 60_000 } });
    const exhausted = sqsRecord(change.body, {
      messageAttributes: {
        [MESSAGE_ATTRIBUTES.deferrals]: String(REDRIVE_DEFERRAL_LIMIT),
        [MESSAGE_ATTRIBUTES.originMessageId]: 'first-message-id',
      },
    });
    const lastAllowed = sqsRecord(change.body, {
      messageAttributes: { [MESSAGE_ATTRIBUTES.deferrals]: String(REDRIVE_DEFERRAL_LIMIT - 1) },
    });

    // Act
    const parked = await invoke(exhausted);
    const parkedInput = sqsMock.commandCalls(SendMessageCommand)[0].args[0].input;
    sqsMock.resetHistory();
    await invoke(lastAllowed);
    const deferredInput = sqsMock.commandCalls(SendMessageCommand)[0].args[0].input;

    // Assess
    expect(REDRIVE_DEFERRAL_LIMIT).toBe(98);
    expect(parked).toEqual({ batchItemFailures: [] });
    expect(parkedInput).toEqual({
      QueueUrl: DLQ_URL,
      MessageBody: change.body,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.parkedReason]: stringAttribute(
          expect.stringMatching(/^deferral-limit: deferred 98 times/),
        ),
        [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute('first-message-id'),
      },
    });
    expect(deferredInput).toMatchObject({ QueueUrl: WORK_QUEUE_URL, DelaySeconds: 900 });
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(metricsCounted).toEqual([
      { name: 'Parked', reason: 'deferral-limit' },
      { name: 'Deferred' },
    ]);
  });

  it.each([
    new ExecutionNotRedrivable({ message: 'Execution is not redrivable', $metadata: {} }),
    new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }),
  ])(
    'records a refused redrive ($name) as skipped: one notice, no retry, no second call on redelivery',
    async (refusal) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange();
      sfnMock.on(RedriveExecutionCommand).rejects(refusal);

      // Act
      const first = await invoke(sqsRecord(change.body));
      const redelivery = await invoke(sqsRecord(change.body));

      // Assess
      expect(first).toEqual({ batchItemFailures: [] });
      expect(redelivery).toEqual({ batchItemFailures: [] });
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
      expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
      const [notice] = notices();
      expect(notice.MessageAttributes).toEqual({
        kind: stringAttribute('redrive-skipped'),
        reason: stringAttribute('redrive-refused'),
      });
      expect(notice.body).toMatchObject({
        executionArn: change.executionArn,
        detail: `RedriveExecution answered ${refusal.name}`,
      });
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(metricsCounted).toEqual([
        { name: 'Skipped', reason: `redrive-refused:${refusal.name}` },
        { name: 'DuplicateDelivery' },
      ]);
    },
  );

  it.each([
    { label: 'an HTTP 500', error: sdkError('SFNServiceException', 500, 'server') },
    {
      label: 'ExecutionLimitExceeded',
      error: new ExecutionLimitExceeded({ message: 'Execution limit exceeded', $metadata: {} }),
    },
    {
      label: 'a network error (ECONNRESET)',
      error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    },
  ])(
    'reports the record as failed on $label, and a later redelivery redrives',
    async ({ error }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange();
      sfnMock
        .on(RedriveExecutionCommand)
        .rejectsOnce(error)
        .resolves({ redriveDate: new Date(NOW) });
      const record = sqsRecord(change.body, { receiveCount: 1 });

      // Act
      const first = await invoke(record);
      const redelivery = await invoke(receivedAgain(record));

      // Assess
      expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
      expect(redelivery).toEqual({ batchItemFailures: [] });
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 2);
      const token = expectedToken(change.executionArn, 0);
      for (const call of sfnMock.commandCalls(RedriveExecutionCommand)) {
        expect(call.args[0].input).toEqual({
          executionArn: change.executionArn,
          clientToken: token,
        });
      }
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(metricsCounted).toEqual([{ name: 'RetryableError' }, { name: 'Redriven' }]);
    },
  );

  it.each([
    { receiveCount: MAX_RECEIVE_COUNT - 1, parked: false },
    { receiveCount: MAX_RECEIVE_COUNT, parked: true },
  ])(
    `on receive $receiveCount of ${MAX_RECEIVE_COUNT} a still-failing record is parked: $parked`,
    async ({ receiveCount, parked }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const change = statusChange();
      sfnMock.on(RedriveExecutionCommand).rejects(sdkError('SFNServiceException', 500, 'server'));
      const record = sqsRecord(change.body, { receiveCount });

      // Act
      const result = await invoke(record);

      // Assess
      expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
      expect(snsMock).not.toHaveReceivedAnyCommand();
      if (!parked) {
        expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
        expect(sqsMock).not.toHaveReceivedAnyCommand();
        expect(metricsCounted).toEqual([{ name: 'RetryableError' }]);
        return;
      }
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      const { input } = sqsMock.commandCalls(SendMessageCommand)[0].args[0];
      expect(input).toEqual({
        QueueUrl: DLQ_URL,
        MessageBody: change.body,
        MessageAttributes: {
          [MESSAGE_ATTRIBUTES.parkedReason]: stringAttribute(expect.any(String)),
          [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute(record.messageId),
        },
      });
      const reason = input.MessageAttributes?.[MESSAGE_ATTRIBUTES.parkedReason]?.StringValue;
      expect(reason).toMatch(/^retries-exhausted after 5 receives: /);
      expect(reason).toContain('SFNServiceException');
      expect(metricsCounted).toEqual([{ name: 'Parked' }]);
    },
  );

  it.each([
    { problem: 'a body that is not JSON', body: () => 'redrive order-42 please {', field: 'body' },
    {
      problem: 'an event without detail.executionArn',
      body: () => statusChange({ detail: { executionArn: undefined } }).body,
      field: 'detail.executionArn',
    },
    {
      problem: 'a state machine outside the scope',
      body: () => statusChange({ machine: 'billing-nightly' }).body,
      field: 'detail.stateMachineArn',
    },
  ])(
    'parks $problem in the DLQ naming the field, with no SFN or SNS call',
    async ({ body, field }) => {
      // Prepare
      const { invoke, metricsCounted } = buildHandler();
      const record = sqsRecord(body());

      // Act
      const result = await invoke(record);

      // Assess
      expect(result).toEqual({ batchItemFailures: [] });
      expect(sfnMock).not.toHaveReceivedAnyCommand();
      expect(snsMock).not.toHaveReceivedAnyCommand();
      expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
      const { input } = sqsMock.commandCalls(SendMessageCommand)[0].args[0];
      expect(input).toEqual(parkedInvalidEvent(DLQ_URL, record, field));
      expect(await table.items()).toEqual([]);
      expect(metricsCounted).toEqual([{ name: 'InvalidEvent' }]);
    },
  );

  it('only observes in observeOnly mode: no redrive, counted as observed', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ machine: 'orders-observed' });

    // Act
    const result = await invoke(sqsRecord(change.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(metricsCounted).toEqual([{ name: 'ObservedRedrive' }]);
  });

  it('waits out throttling inside the invocation instead of handing the record back', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange();
    const throttled = sdkError('ThrottlingException', 400, 'client');
    sfnMock
      .on(RedriveExecutionCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .resolves({ redriveDate: new Date(NOW) });

    // Act
    const result = await invoke(sqsRecord(change.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 3);
    expect(metricsCounted).toEqual([{ name: 'Redriven' }]);
  });

  it('hands a record back when throttling outlasts the invocation, leaving no record behind', async () => {
    // Prepare
    const { handler, counted } = redriveHandler(table, config);
    const change = statusChange();
    sfnMock.on(RedriveExecutionCommand).rejects(sdkError('ThrottlingException', 400, 'client'));
    const record = sqsRecord(change.body, { receiveCount: 1 });
    const started = Date.now();

    // Act
    const result = await handler(sqsEvent(record), lambdaContext(1_000));

    // Assess: given up before the deadline (3/4 of the remaining second), retried later.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(sfnMock.commandCalls(RedriveExecutionCommand).length).toBeGreaterThan(1);
    expect(counted).toEqual([{ name: 'RetryableError' }]);
    sfnMock.on(RedriveExecutionCommand).resolves({ redriveDate: new Date(NOW) });
    expect(await handler(sqsEvent(receivedAgain(record)), lambdaContext())).toEqual({
      batchItemFailures: [],
    });
  });

  it.each([
    { receiveCount: 1, parked: false },
    { receiveCount: MAX_RECEIVE_COUNT, parked: true },
  ])(
    'ends a RedriveExecution that never answers by the deadline and returns in time (receive $receiveCount, parked $parked)',
    async ({ receiveCount, parked }) => {
      // Prepare: AWS accepts the call and never answers; 2 s left, so the deadline is in 1.5 s
      const { handler, counted } = redriveHandler(table, config);
      const change = statusChange();
      sfnMock.on(RedriveExecutionCommand).callsFake(() => new Promise(() => undefined));
      const record = sqsRecord(change.body, { receiveCount });
      const started = Date.now();

      // Act
      const result = await handler(sqsEvent(record), lambdaContext(2_000));

      // Assess: the invocation answered before Lambda's timeout (generous bound), and the
      // record is retried or, on its last receive, parked with the abort as its reason.
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(result).toEqual({
        batchItemFailures: parked ? [] : [{ itemIdentifier: record.messageId }],
      });
      expect(counted).toEqual([{ name: parked ? 'Parked' : 'RetryableError' }]);
      if (parked) {
        expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toMatchObject({
          QueueUrl: DLQ_URL,
          MessageAttributes: {
            [MESSAGE_ATTRIBUTES.parkedReason]: stringAttribute(
              expect.stringMatching(/^retries-exhausted after 5 receives: AbortError: /),
            ),
          },
        });
      }
    },
  );

  it('reports only the failing record of a mixed batch as a failure', async () => {
    // Prepare
    const { invoke } = buildHandler();
    const ok = statusChange();
    const throttled = statusChange();
    sfnMock
      .on(RedriveExecutionCommand, { executionArn: throttled.executionArn })
      .rejects(sdkError('SFNServiceException', 500, 'server'));
    const records = [
      sqsRecord(ok.body),
      sqsRecord(throttled.body),
      sqsRecord(statusChange({ detail: { executionArn: undefined } }).body),
    ];

    // Act
    const result = await invoke(...records);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[1].messageId }] });
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 2);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: ok.executionArn,
    });
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: throttled.executionArn,
    });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageBody: records[2].body,
    });
    expect(snsMock).not.toHaveReceivedAnyCommand();
  });

  it('never logs execution input, output or cause, even at DEBUG level', async () => {
    // Prepare
    const secret = `s3cr3t-${randomUUID()}`;
    const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME, logLevel: 'DEBUG' });
    const { invoke } = buildHandler(logger);
    const data = {
      input: `{"card":"${secret}"}`,
      output: `{"token":"${secret}"}`,
      cause: `boom ${secret}`,
    };
    const redriven = statusChange({ detail: data });
    const throttled = statusChange({ detail: data });
    const denied = statusChange({ detail: { ...data, error: 'States.Runtime' } });
    const malformed = statusChange({ detail: { ...data, executionArn: undefined } });
    sfnMock
      .on(RedriveExecutionCommand, { executionArn: throttled.executionArn })
      .rejects(sdkError('SFNServiceException', 500, 'server'));
    const captured = captureLogs();

    // Act
    const result = await invoke(
      sqsRecord(redriven.body),
      sqsRecord(throttled.body),
      sqsRecord(denied.body),
      sqsRecord(malformed.body),
    );
    captured.restore();

    // Assess: the logs were captured (so the check below means something) and hold no secret.
    expect(result.batchItemFailures).toHaveLength(1);
    const logs = captured.text();
    expect(logs).toContain(redriven.executionArn);
    expect(logs).toContain('Will retry');
    expect(logs).toContain('Invalid event parked in the dead-letter queue');
    expect(logs).not.toContain(secret);
  });
});

describe('redrive handler, on a message whose facts may be stale', () => {
  const DAY_MS = 24 * 60 * MINUTE_MS;

  /** DescribeExecution answers with the execution as it is now. */
  function executionNow(
    change: { executionArn: string; stateMachineArn: string },
    facts: { status?: string; redriveCount: number; error?: string; redriveStatus?: string },
  ) {
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: change.executionArn,
      stateMachineArn: change.stateMachineArn,
      status: (facts.status ?? 'FAILED') as 'FAILED',
      startDate: new Date(NOW - 12 * MINUTE_MS),
      stopDate: new Date(NOW - 10 * MINUTE_MS),
      redriveCount: facts.redriveCount,
      redriveStatus: (facts.redriveStatus ?? 'REDRIVABLE') as 'REDRIVABLE',
      error: facts.error ?? 'States.TaskFailed',
    });
  }

  /** The message an operator replays from the dead-letter queue after Autoheal parked it. */
  const replayed = (body: string) =>
    sqsRecord(body, {
      messageAttributes: {
        [MESSAGE_ATTRIBUTES.parkedReason]:
          'retries-exhausted after 5 receives: ThrottlingException',
        [MESSAGE_ATTRIBUTES.originMessageId]: randomUUID(),
      },
    });

  const sfnCalls = () => sfnMock.calls().map((call) => call.args[0].constructor.name);

  it('gives up on a replayed redriveCount 0 for an execution now at 5 (maxRedrives 3), without redriving', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 0 } });
    executionNow(change, { redriveCount: 5 });

    // Act
    const result = await invoke(replayed(change.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnCalls()).toEqual(['DescribeExecutionCommand']);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: change.executionArn,
    });
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(notices()[0].body).toMatchObject({
      kind: 'redrive-gave-up',
      reason: 'max-redrives',
      redriveCount: 5,
      detail: 'redriven 5 time(s); maxRedrives is 3',
    });
    expect(metricsCounted).toEqual([
      { name: 'ConfirmedStale', reason: 'dead-letter-replay' },
      { name: 'GaveUp' },
    ]);
  });

  it('skips a replay whose execution now fails with an error on the deny list', async () => {
    // Prepare: the message says Lambda.ServiceException; the execution failed again since, with Payment.Declined
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ machine: 'orders-payments', detail: { redriveCount: 0 } });
    executionNow(change, { redriveCount: 1, error: 'Payment.Declined' });

    // Act
    const result = await invoke(replayed(change.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnCalls()).toEqual(['DescribeExecutionCommand']);
    expect(notices()[0].body).toMatchObject({
      kind: 'redrive-skipped',
      reason: 'error-denied',
      error: 'Payment.Declined',
      redriveCount: 1,
    });
    expect(metricsCounted).toEqual([
      { name: 'ConfirmedStale', reason: 'dead-letter-replay' },
      { name: 'Skipped', reason: 'error-denied' },
    ]);
  });

  it('ignores a stale message whose execution has since SUCCEEDED', async () => {
    // Prepare: a hand-made event three days old
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 0 } });
    const body = JSON.stringify({
      ...JSON.parse(change.body),
      time: new Date(NOW - 3 * DAY_MS).toISOString(),
    });
    executionNow(change, { status: 'SUCCEEDED', redriveCount: 1 });

    // Act
    const result = await invoke(sqsRecord(body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnCalls()).toEqual(['DescribeExecutionCommand']);
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
    expect(await table.items()).toEqual([]);
    expect(metricsCounted).toEqual([
      { name: 'ConfirmedStale', reason: 'facts-too-old' },
      { name: 'Ignored' },
    ]);
  });

  it('redrives the current failure under its own key, so it dedupes with that failure’s own event', async () => {
    // Prepare: a replay about failure #0; the execution has failed again (#1) and its delay has elapsed
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 0 } });
    executionNow(change, { redriveCount: 1 });
    const current = statusChange({ detail: { redriveCount: 1 } });
    const currentEvent = JSON.stringify({
      ...JSON.parse(current.body),
      detail: { ...JSON.parse(current.body).detail, executionArn: change.executionArn },
    });

    // Act: the replay, then the current failure's own event
    const first = await invoke(replayed(change.body));
    const second = await invoke(sqsRecord(currentEvent));

    // Assess: one redrive, with the client token of failure #1
    expect([first, second]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(sfnCalls()).toEqual(['DescribeExecutionCommand', 'RedriveExecutionCommand']);
    expect(sfnMock.commandCalls(RedriveExecutionCommand)[0].args[0].input).toEqual({
      executionArn: change.executionArn,
      clientToken: expectedToken(change.executionArn, 1),
    });
    expect(metricsCounted).toEqual([
      { name: 'ConfirmedStale', reason: 'dead-letter-replay' },
      { name: 'Redriven' },
      { name: 'DuplicateDelivery' },
    ]);
  });

  it('marks the hop of a confirmed stale message, so it is confirmed again when due', async () => {
    // Prepare: the execution failed again (#1) 40 s ago; its delay is 240 s
    const { invoke } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 0 } });
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: change.executionArn,
      stateMachineArn: change.stateMachineArn,
      status: 'FAILED',
      startDate: new Date(NOW - 2 * MINUTE_MS),
      stopDate: new Date(NOW - 40_000),
      redriveCount: 1,
      redriveStatus: 'REDRIVABLE',
      error: 'States.TaskFailed',
    });
    const record = replayed(change.body);

    // Act
    await invoke(record);

    // Assess: deferred by the current failure's delay (240 s from its stop), marked unconfirmed
    expect(sfnCalls()).toEqual(['DescribeExecutionCommand']);
    expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toMatchObject({
      QueueUrl: WORK_QUEUE_URL,
      MessageBody: change.body,
      DelaySeconds: 200,
      MessageAttributes: {
        [MESSAGE_ATTRIBUTES.unconfirmed]: stringAttribute('dead-letter-replay'),
      },
    });
  });

  it('acts on a fresh event without DescribeExecution', async () => {
    // Prepare
    const { invoke, metricsCounted } = buildHandler();
    const change = statusChange({ detail: { redriveCount: 1 } });

    // Act
    const result = await invoke(sqsRecord(change.body));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnCalls()).toEqual(['RedriveExecutionCommand']);
    expect(metricsCounted).toEqual([{ name: 'Redriven' }]);
  });
});

describe('a scope of 1,000 state machines by name, delivered in the config file', () => {
  /** The redrive config as the construct stages it for an environment-agnostic stack: 1,000 home-relative ARNs, 200 overrides. */
  function stagedScope() {
    const stack = new Stack(new App(), 'Host');
    const names = Array.from({ length: 1000 }, (_, i) => `machine-${i}`);
    const { config } = configFromProps(stack, {
      redrive: {
        stateMachines: names.map((name, i) =>
          sfn.StateMachine.fromStateMachineName(stack, `M${i}`, name),
        ),
        overrides: Object.fromEntries(
          names.slice(0, 200).map((name) => [name, { maxRedrives: 2 }]),
        ),
      },
    });
    const parsed = config.redrive as RedriveConfig;
    const { processing: _processing, sweeper: _sweeper, ...section } = parsed;
    const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'autoheal-bundle-'));
    fs.writeFileSync(path.join(bundleDir, 'index.js'), '');
    const staged = stageConfigAsset(stack, bundleDir, { [CONFIG_SECTION.redrive]: section });
    return { dir: staged.dir, environment: staged.environment, processing: parsed.processing };
  }

  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('redrives a failure of machine #999 and parks the event of an unlisted machine', async () => {
    // Prepare: the handler reads the file as it does at init; the clock hands over its record
    const { dir, environment, processing } = stagedScope();
    process.env[ENV.configFile] = path.join(dir, CONFIG_FILE_NAME);
    process.env[ENV.statesArnPrefix] = `arn:aws:states:${REGION}:${ACCOUNT}:`;
    const fromFile = {
      ...readNormalisedConfig<RedriveHandlerConfig>(CONFIG_SECTION.redrive),
      processing,
    } as RedriveConfig;
    const clock = createLiveHealingClock({
      dynamodb: table.client,
      tableName: table.tableName,
      now: () => NOW - HOUR_MS,
    });
    const deployed = await clock(clockRequest('Create', fromFile));
    const source = liveSinceSource(deployed.Data?.[LIVE_HEALING_CLOCK.attribute] ?? '', {
      dynamodb: table.client,
      tableName: table.tableName,
    });
    const liveSince = 'load' in source ? await source.load() : source.document;
    const { handler, counted } = redriveHandler(table, fromFile, undefined, liveSince);
    const listed = sqsRecord(statusChange({ machine: 'machine-999' }).body);
    const unlisted = sqsRecord(statusChange({ machine: 'machine-1000' }).body);

    // Act
    const result = await handler(sqsEvent(listed, unlisted), lambdaContext());

    // Assess
    expect(environment).not.toHaveProperty(ENV.configTokens);
    expect('load' in source).toBe(true);
    expect(fromFile.stateMachineArns[999]).toBe(
      `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:machine-999`,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: expect.stringContaining(':execution:machine-999:'),
    });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqsMock).toHaveReceivedCommandWith(
      SendMessageCommand,
      parkedInvalidEvent(DLQ_URL, unlisted, 'detail.stateMachineArn'),
    );
    expect(counted).toEqual(expect.arrayContaining([{ name: 'Redriven' }]));
  });
});
