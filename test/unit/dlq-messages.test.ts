/**
 * How `autoheal dlq` reads a dead-letter message (reason, origin, the facts it
 * may print) and which messages an operator's selection picks. Pure.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { isSelected, type Selection } from '../../cli/dlq/dead-letter-queues';
import {
  describeParkedMessage,
  type ParkedMessage,
  reasonMatches,
  replayAttributesOf,
} from '../../cli/dlq/parked-message';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/contract';

const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const SECRET = 'SECRET-EXECUTION-DATA';
const EXECUTION_ARN = 'arn:aws:states:eu-central-1:123456789012:execution:orders:o-1';

function message(
  body: unknown,
  attributes: Record<string, string> = {},
  sentAgoMs = 60_000,
): Message {
  return {
    MessageId: 'm-1',
    ReceiptHandle: 'r-1',
    Body: typeof body === 'string' ? body : JSON.stringify(body),
    Attributes: { SentTimestamp: String(NOW - sentAgoMs) },
    MessageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [
        name,
        { DataType: 'String', StringValue: value },
      ]),
    ),
  };
}

const failureEvent = {
  source: 'aws.states',
  time: '2026-03-02T09:00:00Z',
  detail: {
    executionArn: EXECUTION_ARN,
    stateMachineArn: 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders',
    status: 'FAILED',
    error: 'States.TaskFailed',
    cause: SECRET,
    input: `{"card":"${SECRET}"}`,
    output: SECRET,
    redriveCount: 1,
  },
};

const tick = { schedule: 'nightly', scheduledTime: '2026-03-02T02:00:00Z', flows: ['crm-export'] };

describe('describeParkedMessage', () => {
  it.each<{
    name: string;
    attributes: Record<string, string>;
    body: unknown;
    reason: string;
    origin: string;
  }>([
    {
      name: 'a failure whose retries ran out',
      attributes: {
        [MESSAGE_ATTRIBUTES.parkedReason]:
          'retries-exhausted after 5 receives: ThrottlingException: Rate exceeded',
      },
      body: failureEvent,
      reason: 'retries-exhausted: ThrottlingException',
      origin: 'eventbridge',
    },
    {
      name: 'an invalid event, by its field',
      attributes: {
        [MESSAGE_ATTRIBUTES.parkedReason]: 'invalid-event: detail.executionArn: must be an ARN',
        [MESSAGE_ATTRIBUTES.invalidField]: 'detail.executionArn',
      },
      body: failureEvent,
      reason: 'invalid-event: detail.executionArn',
      origin: 'eventbridge',
    },
    {
      name: "a sweeper's failure deferred too often",
      attributes: {
        [MESSAGE_ATTRIBUTES.parkedReason]: 'deferral-limit: deferred 98 times',
        [MESSAGE_ATTRIBUTES.origin]: 'sweeper',
      },
      body: { ...failureEvent, source: 'autoheal.sweeper' },
      reason: 'deferral-limit',
      origin: 'sweeper',
    },
    {
      name: 'an event EventBridge could not deliver',
      attributes: { ERROR_CODE: 'SQS.AccessDenied', ERROR_MESSAGE: 'denied' },
      body: failureEvent,
      reason: 'undelivered: SQS.AccessDenied',
      origin: 'eventbridge',
    },
    {
      name: "a tick the starter failed on after Lambda's retries",
      attributes: {},
      body: {
        requestContext: { condition: 'RetriesExhausted' },
        requestPayload: tick,
        responsePayload: { errorType: 'RetryableError', errorMessage: SECRET },
      },
      reason: 'invocation-failed: RetriesExhausted',
      origin: 'scheduler',
    },
    {
      name: 'a failure SQS moved after maxReceiveCount (the handler never parked it)',
      attributes: {},
      body: failureEvent,
      reason: 'max-receives',
      origin: 'eventbridge',
    },
  ])('names the reason and origin of $name', ({ attributes, body, reason, origin }) => {
    // Act
    const { meta } = describeParkedMessage(message(body, attributes), 'redrive', NOW);

    // Assess
    expect(meta).toMatchObject({ reason, origin, ageSeconds: 60 });
    expect(JSON.stringify(meta)).not.toContain(SECRET);
  });

  it("keeps the execution's ids, status and error name, never its input, output or cause", () => {
    // Act
    const { meta } = describeParkedMessage(message(failureEvent), 'redrive', NOW);

    // Assess
    expect(meta).toEqual({
      queue: 'redrive',
      messageId: 'm-1',
      originMessageId: 'm-1',
      reason: 'max-receives',
      origin: 'eventbridge',
      parkedAt: '2026-03-02T09:59:00.000Z',
      ageSeconds: 60,
      source: 'aws.states',
      eventTime: '2026-03-02T09:00:00Z',
      executionArn: EXECUTION_ARN,
      stateMachineArn: failureEvent.detail.stateMachineArn,
      status: 'FAILED',
      error: 'States.TaskFailed',
      redriveCount: 1,
    });
  });

  it('marks a replay with its parked reason and keeps the provenance, not the parked marks or deferrals', () => {
    // Prepare
    const parked = describeParkedMessage(
      message(failureEvent, {
        [MESSAGE_ATTRIBUTES.parkedReason]: 'deferral-limit: deferred 98 times',
        [MESSAGE_ATTRIBUTES.deferrals]: '98',
        [MESSAGE_ATTRIBUTES.originMessageId]: 'first',
        [MESSAGE_ATTRIBUTES.origin]: 'sweeper',
      }),
      'redrive',
      NOW,
    );

    // Act
    const attributes = replayAttributesOf(parked);

    // Assess
    expect(attributes).toEqual({
      [MESSAGE_ATTRIBUTES.originMessageId]: { DataType: 'String', StringValue: 'first' },
      [MESSAGE_ATTRIBUTES.origin]: { DataType: 'String', StringValue: 'sweeper' },
      [MESSAGE_ATTRIBUTES.replayed]: { DataType: 'String', StringValue: 'deferral-limit' },
    });
  });
});

describe('selection', () => {
  const parked = (reason: string, ageSeconds: number, executionArn?: string): ParkedMessage => ({
    queue: 'redrive',
    messageId: 'm',
    originMessageId: 'm',
    reason,
    origin: 'eventbridge',
    parkedAt: '2026-03-02T09:00:00.000Z',
    ageSeconds,
    ...(executionArn && { executionArn }),
  });

  it.each<{ name: string; selection: Selection; message: ParkedMessage; selected: boolean }>([
    {
      name: 'a kind selects its qualified reasons',
      selection: { reasons: ['retries-exhausted'] },
      message: parked('retries-exhausted: ThrottlingException', 10),
      selected: true,
    },
    {
      name: 'a word is not a kind',
      selection: { reasons: ['retries'] },
      message: parked('retries-exhausted: ThrottlingException', 10),
      selected: false,
    },
    {
      name: 'any of several reasons',
      selection: { reasons: ['deferral-limit', 'max-receives'] },
      message: parked('max-receives', 10),
      selected: true,
    },
    {
      name: 'older than 2h: 3h old',
      selection: { olderThanSeconds: 7200 },
      message: parked('max-receives', 3 * 3600),
      selected: true,
    },
    {
      name: 'older than 2h: 1h old',
      selection: { olderThanSeconds: 7200 },
      message: parked('max-receives', 3600),
      selected: false,
    },
    {
      name: 'newer than 30m: 1h old',
      selection: { newerThanSeconds: 1800 },
      message: parked('max-receives', 3600),
      selected: false,
    },
    {
      name: 'by execution: a message naming none',
      selection: { executionArns: [EXECUTION_ARN] },
      message: parked('invalid-event: body', 10),
      selected: false,
    },
    {
      name: 'every criterion must hold',
      selection: { reasons: ['max-receives'], executionArns: [EXECUTION_ARN] },
      message: parked('max-receives', 10, EXECUTION_ARN),
      selected: true,
    },
  ])('$name', ({ selection, message: m, selected }) => {
    expect(isSelected(m, selection)).toBe(selected);
  });

  it('matches a reason exactly or by its kind only', () => {
    expect(reasonMatches('invalid-event: source', 'invalid-event: source')).toBe(true);
    expect(reasonMatches('invalid-event: source', 'invalid-event: sour')).toBe(false);
  });
});
