/**
 * The redrive handler on 1,000 generated malformed events (test/support/bad-input.ts),
 * in SQS batches of 10, against DynamoDB Local with Step Functions, SNS and SQS
 * mocked: every event is parked once in the dead-letter queue, unchanged, with
 * the reason and the field, and nothing else reaches AWS: no Step Functions
 * or SNS call, no DynamoDB call, no retry.
 */
import { RedriveExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, type SendMessageCommandInput } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/contract';
import { snsMock, sqsMock } from '../support/aws-mocks';
import {
  BAD_INPUT_SCOPE,
  generateMalformedEvents,
  MALFORMED_FAMILIES,
  type MalformedEvent,
} from '../support/bad-input';
import { AFTER_EVERY_FIXTURE, loadEvent, toSqsBody, withDetail } from '../support/fixtures';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import { HOUR_MS, MAX_RECEIVE_COUNT, MINUTE_MS } from '../support/lambda-env';
import { DLQ_URL, redriveHandler, resetRedriveMocks, sfnMock } from '../support/redrive-harness';

const COUNT = 1000;
const BATCH_SIZE = 10;
const EVENTS = generateMalformedEvents(COUNT);

const config = parseRedriveConfig({
  ...BAD_INPUT_SCOPE,
  processing: { maxReceiveCount: MAX_RECEIVE_COUNT },
});

let table: IdempotencyTable;

beforeEach(async () => {
  resetRedriveMocks();
  table = await createIdempotencyTable();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await table.dispose();
});

interface Delivered<E = MalformedEvent> {
  readonly event: E;
  readonly record: SQSRecord;
}

interface Run<E> {
  readonly delivered: Delivered<E>[];
  readonly responses: SQSBatchResponse[];
  /** What an invocation threw, if any did. */
  readonly crashes: unknown[];
  /** Every call the handler made on the idempotency table's DynamoDB client. */
  readonly dynamoDbCalls: number;
  readonly metricNames: string[];
}

/** Delivers `events` to one handler as Lambda would, `BATCH_SIZE` SQS records per invocation. */
async function deliverInBatches<E extends { readonly body: string }>(
  events: readonly E[],
): Promise<Run<E>> {
  // The generated events date from the fixtures' day (up to 10:28): a clock after all of them.
  const { handler, counted } = redriveHandler(
    table,
    config,
    undefined,
    undefined,
    AFTER_EVERY_FIXTURE,
  );
  const dynamoDbSend = jest.spyOn(table.client, 'send');
  const delivered = events.map((event, i) => ({
    event,
    record: sqsRecord(event.body, { messageId: `bad-input-${i}` }),
  }));
  const responses: SQSBatchResponse[] = [];
  const crashes: unknown[] = [];
  for (let i = 0; i < delivered.length; i += BATCH_SIZE) {
    const batch = delivered.slice(i, i + BATCH_SIZE).map(({ record }) => record);
    try {
      responses.push(await handler(sqsEvent(...batch), lambdaContext()));
    } catch (error) {
      crashes.push(error);
    }
  }
  return {
    delivered,
    responses,
    crashes,
    dynamoDbCalls: dynamoDbSend.mock.calls.length,
    metricNames: counted.map((metric) => metric.name),
  };
}

const PARKED_ATTRIBUTES = [
  MESSAGE_ATTRIBUTES.invalidField,
  MESSAGE_ATTRIBUTES.originMessageId,
  MESSAGE_ATTRIBUTES.parkedReason,
].sort();

/**
 * Everything wrong with how `delivered` were parked: each must be sent once to
 * the dead-letter queue, with its body unchanged, the field it was rejected for
 * and a reason naming that field. One line per problem, so a failure reads.
 */
function parkingProblems(delivered: readonly Delivered[]): string[] {
  const sent = sqsMock.commandCalls(SendMessageCommand).map(({ args: [command] }) => command.input);
  const byOrigin = new Map<string, SendMessageCommandInput[]>();
  for (const input of sent) {
    const origin = input.MessageAttributes?.[MESSAGE_ATTRIBUTES.originMessageId]?.StringValue ?? '';
    byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), input]);
  }
  const problems: string[] = [];
  if (sent.length !== delivered.length) {
    problems.push(`${sent.length} SendMessage calls for ${delivered.length} events`);
  }
  for (const { event, record } of delivered) {
    const parked = byOrigin.get(record.messageId) ?? [];
    if (parked.length !== 1) {
      problems.push(`${event.label}: parked ${parked.length} times`);
      continue;
    }
    const [{ QueueUrl, MessageBody, DelaySeconds, MessageAttributes = {} }] = parked;
    const attribute = (name: string) => MessageAttributes[name]?.StringValue;
    const reason = attribute(MESSAGE_ATTRIBUTES.parkedReason) ?? '';
    if (QueueUrl !== DLQ_URL) problems.push(`${event.label}: sent to ${QueueUrl}`);
    if (MessageBody !== event.body) {
      problems.push(
        `${event.label}: parked body of ${MessageBody?.length} characters, not the original ${event.body.length}`,
      );
    }
    if (DelaySeconds !== undefined) problems.push(`${event.label}: parked with a delay`);
    const names = Object.keys(MessageAttributes).sort();
    if (names.join() !== PARKED_ATTRIBUTES.join()) {
      problems.push(`${event.label}: attributes ${names.join(', ')}`);
    }
    if (attribute(MESSAGE_ATTRIBUTES.invalidField) !== event.expectedField) {
      problems.push(
        `${event.label}: field ${attribute(MESSAGE_ATTRIBUTES.invalidField)}, expected ${event.expectedField}`,
      );
    }
    if (!reason.startsWith(`invalid-event: ${event.expectedField}: `)) {
      problems.push(`${event.label}: reason ${JSON.stringify(reason)}`);
    }
  }
  return problems;
}

describe('redrive handler on generated malformed events', () => {
  it('sees DynamoDB, Step Functions and the metrics when an event is valid (the probes work)', async () => {
    // Prepare: an in-scope, redrivable failure whose delay has elapsed, sent a minute
    // ago by the rule (fresh: the handler acts on its facts without DescribeExecution)
    const valid = {
      ...withDetail(loadEvent('failed-redrivable'), { stopDate: AFTER_EVERY_FIXTURE - HOUR_MS }),
      time: new Date(AFTER_EVERY_FIXTURE - MINUTE_MS).toISOString(),
    };

    // Act
    const run = await deliverInBatches([{ body: toSqsBody(valid) }]);

    // Assess
    expect(run.crashes).toEqual([]);
    expect(run.dynamoDbCalls).toBeGreaterThan(0);
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(run.metricNames).toEqual(['Redriven']);
    expect(await table.items()).toHaveLength(1);
  });

  it.each(MALFORMED_FAMILIES)(
    'parks every %s event once in the dead-letter queue, unchanged, naming its field, with no other AWS call',
    async (family) => {
      // Prepare
      const events = EVENTS.filter((event) => event.family === family);

      // Act
      const run = await deliverInBatches(events);

      // Assess
      expect(events.length).toBeGreaterThanOrEqual(Math.floor(COUNT / MALFORMED_FAMILIES.length));
      expect(run.crashes).toEqual([]);
      expect(run.responses).toHaveLength(Math.ceil(events.length / BATCH_SIZE));
      expect(run.responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
      expect(sfnMock.calls()).toHaveLength(0);
      expect(snsMock.calls()).toHaveLength(0);
      expect(run.dynamoDbCalls).toBe(0);
      expect(await table.items()).toEqual([]);
      expect(parkingProblems(run.delivered)).toEqual([]);
      expect(run.metricNames).toEqual(events.map(() => 'InvalidEvent'));
    },
  );

  it('parks all 1,000 events delivered in mixed batches of 10, and nothing else', async () => {
    // Prepare: the generator alternates families, so every batch mixes them
    const families = new Set(EVENTS.slice(0, BATCH_SIZE).map((event) => event.family));

    // Act
    const run = await deliverInBatches(EVENTS);

    // Assess
    expect(families.size).toBe(Math.min(BATCH_SIZE, MALFORMED_FAMILIES.length));
    expect(run.crashes).toEqual([]);
    expect(run.responses).toHaveLength(COUNT / BATCH_SIZE);
    expect(run.responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
    expect(run.dynamoDbCalls).toBe(0);
    expect(await table.items()).toEqual([]);
    expect(parkingProblems(run.delivered)).toEqual([]);
    expect(run.metricNames).toEqual(EVENTS.map(() => 'InvalidEvent'));
  });
});
