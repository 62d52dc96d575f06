/**
 * What a dead-letter message is, for an operator: why it was parked (a short
 * reason to group and select by), where it came from, when, and which
 * execution, flow or tick it is about. Pure: no I/O, no clock.
 *
 * Only metadata leaves this module. The body is read for ids and names, never
 * copied: an execution's input, output and cause, a flow's data and a Lambda
 * failure's error message stay in the queue, as Autoheal never logs or sends
 * them anywhere either.
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES, SFN_EVENT } from '../../lambda/shared/contract';

/** The dead-letter queues of a deployment, by the path they serve. */
export const DEAD_LETTER_QUEUE_NAMES = ['redrive', 'flow-starter', 'flow-healer'] as const;
export type DeadLetterQueueName = (typeof DEAD_LETTER_QUEUE_NAMES)[number];

/**
 * The reason of a message no Autoheal handler parked and no other service
 * marked: SQS moved it from the work queue after `maxReceiveCount` receives
 * (the handler crashed or timed out on every one, so it could not park it).
 */
export const MAX_RECEIVES_REASON = 'max-receives';

/** A dead-letter message's metadata: what `dlq list --json` prints, one per message. */
export interface ParkedMessage {
  readonly queue: DeadLetterQueueName;
  /** Its SQS message id in the dead-letter queue. */
  readonly messageId: string;
  /** The id of the first message that carried the event (Autoheal's provenance), else its own. */
  readonly originMessageId: string;
  /**
   * Why it was parked, short enough to group and select by: the parked
   * reason's kind (`invalid-event`, `retries-exhausted`, `deferral-limit`,
   * ...) and its qualifier (the error name, the invalid field), e.g.
   * `retries-exhausted: ThrottlingException`; `undelivered: CODE` for what
   * EventBridge or Scheduler could not deliver; `invocation-failed: CONDITION`
   * for a tick the starter failed on after Lambda's retries; `max-receives`.
   */
  readonly reason: string;
  /** The reason as the parking side wrote it (Autoheal's text, or EventBridge's or Scheduler's error message). */
  readonly reasonDetail?: string;
  /** The field that made the event invalid, when that was the reason. */
  readonly invalidField?: string;
  /** Who put the event on its path: `eventbridge`, `sweeper`, `brake-keeper`, `scheduler`, `unknown`. */
  readonly origin: string;
  /** When it was sent to the dead-letter queue (ISO). */
  readonly parkedAt: string;
  /** Seconds since then. */
  readonly ageSeconds: number;
  /** The event's `source` and `time`, when it has them. */
  readonly source?: string;
  readonly eventTime?: string;
  readonly executionArn?: string;
  readonly stateMachineArn?: string;
  readonly status?: string;
  /** The execution's error name (never its cause). */
  readonly error?: string;
  readonly redriveCount?: number;
  readonly flowName?: string;
  readonly flowExecutionId?: string;
  /** A schedule tick's schedule, time and flows. */
  readonly schedule?: string;
  readonly scheduledTime?: string;
  readonly flows?: readonly string[];
}

/** A received dead-letter message: its metadata, and what moving it needs (never printed). */
export interface ReceivedParkedMessage {
  readonly meta: ParkedMessage;
  readonly receiptHandle: string;
  readonly body: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
}

/** Longest id, name or reason part copied from a body or an attribute. */
const MAX_TEXT = 256;
/** Most flow names of a tick listed. */
const MAX_FLOWS = 50;

type Json = Readonly<Record<string, unknown>>;

function objectOf(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, MAX_TEXT) : undefined;
}

function parseBody(body: string): Json {
  try {
    return objectOf(JSON.parse(body)) ?? {};
  } catch {
    return {};
  }
}

function attributeOf(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

/**
 * The Lambda asynchronous-invocation failure record the starter's on-failure
 * destination sends: `requestContext` (with its `condition`) and the
 * `requestPayload` (the tick).
 */
function invocationRecordOf(body: Json): { condition: string; payload: Json } | undefined {
  const context = objectOf(body.requestContext);
  if (!context || !('requestPayload' in body)) return undefined;
  return {
    condition: textOf(context.condition) ?? 'unknown',
    payload: objectOf(body.requestPayload) ?? {},
  };
}

/**
 * The short reason of a message (see {@link ParkedMessage.reason}).
 *
 * @example
 * ```ts
 * reasonOf('retries-exhausted after 5 receives: ThrottlingException: Rate exceeded', {}); // 'retries-exhausted: ThrottlingException'
 * ```
 */
export function reasonOf(
  parkedReason: string | undefined,
  marks: {
    readonly invalidField?: string;
    readonly errorCode?: string;
    readonly invocationCondition?: string;
  },
): string {
  if (parkedReason !== undefined && parkedReason !== '') {
    const kind = /^[a-z][a-z0-9-]*/.exec(parkedReason)?.[0] ?? 'parked';
    if (kind === 'retries-exhausted') {
      const errorName = /receives: ([A-Za-z0-9_.]+)/.exec(parkedReason)?.[1];
      return errorName ? `${kind}: ${errorName}` : kind;
    }
    return marks.invalidField ? `${kind}: ${marks.invalidField.slice(0, MAX_TEXT)}` : kind;
  }
  if (marks.errorCode) return `undelivered: ${marks.errorCode.slice(0, MAX_TEXT)}`;
  if (marks.invocationCondition) return `invocation-failed: ${marks.invocationCondition}`;
  return MAX_RECEIVES_REASON;
}

/**
 * True when `reason` is selected by `wanted`: the same reason, or a kind it
 * belongs to (`retries-exhausted` selects `retries-exhausted: ThrottlingException`).
 */
export function reasonMatches(reason: string, wanted: string): boolean {
  return reason === wanted || reason.startsWith(`${wanted}:`);
}

function originOf(message: Message, body: Json, isTick: boolean): string {
  const stamped = attributeOf(message, MESSAGE_ATTRIBUTES.origin);
  if (stamped) return stamped.slice(0, 64);
  if (isTick) return 'scheduler';
  const source = textOf(body.source);
  if (source === SFN_EVENT.sweeperSource) return 'sweeper';
  if (source?.startsWith('aws.')) return 'eventbridge';
  return 'unknown';
}

/** Only the fields an operator needs to find the work again: ids, names, status, error name. */
function eventFacts(body: Json): Partial<ParkedMessage> {
  const detail = objectOf(body.detail) ?? {};
  const redriveCount = detail.redriveCount;
  const flows = Array.isArray(body.flows)
    ? body.flows
        .slice(0, MAX_FLOWS)
        .map(textOf)
        .filter((f): f is string => f !== undefined)
    : undefined;
  const facts: Partial<Record<keyof ParkedMessage, unknown>> = {
    source: textOf(body.source),
    eventTime: textOf(body.time),
    executionArn: textOf(detail.executionArn),
    stateMachineArn: textOf(detail.stateMachineArn),
    status: textOf(detail.status),
    error: textOf(detail.error),
    redriveCount: typeof redriveCount === 'number' ? redriveCount : undefined,
    flowName: textOf(detail['flow-name']),
    flowExecutionId: textOf(detail['execution-id']),
    schedule: textOf(body.schedule),
    scheduledTime: textOf(body.scheduledTime),
    flows,
  };
  return Object.fromEntries(
    Object.entries(facts).filter(([, value]) => value !== undefined),
  ) as Partial<ParkedMessage>;
}

/**
 * Reads a received dead-letter message.
 *
 * @param now epoch ms, for its age
 * @example
 * ```ts
 * const parked = describeParkedMessage(message, 'redrive', Date.now());
 * parked.meta.reason; // 'invalid-event: detail.executionArn'
 * ```
 */
export function describeParkedMessage(
  message: Message,
  queue: DeadLetterQueueName,
  now: number,
): ReceivedParkedMessage {
  const body = parseBody(message.Body ?? '');
  const invocation = invocationRecordOf(body);
  const event = invocation?.payload ?? body;
  const isTick = invocation !== undefined || typeof event.scheduledTime === 'string';
  const parkedReason = attributeOf(message, MESSAGE_ATTRIBUTES.parkedReason);
  const invalidField = attributeOf(message, MESSAGE_ATTRIBUTES.invalidField);
  const errorCode = attributeOf(message, 'ERROR_CODE');
  const sentAt = Number(message.Attributes?.SentTimestamp ?? now);
  const messageId = message.MessageId ?? '';
  const reasonDetail =
    parkedReason ?? attributeOf(message, 'ERROR_MESSAGE') ?? invocation?.condition;
  const meta: ParkedMessage = {
    queue,
    messageId,
    originMessageId: attributeOf(message, MESSAGE_ATTRIBUTES.originMessageId) ?? messageId,
    reason: reasonOf(parkedReason, {
      invalidField,
      errorCode,
      invocationCondition: invocation?.condition,
    }),
    ...(reasonDetail !== undefined && { reasonDetail: reasonDetail.slice(0, 1024) }),
    ...(invalidField !== undefined && { invalidField: invalidField.slice(0, MAX_TEXT) }),
    origin: originOf(message, event, isTick),
    parkedAt: new Date(sentAt).toISOString(),
    ageSeconds: Math.max(0, Math.round((now - sentAt) / 1000)),
    ...eventFacts(event),
  };
  return {
    meta,
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    messageAttributes: message.MessageAttributes ?? {},
  };
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/**
 * The message attributes of a replay: Autoheal's provenance (the first
 * message's id, the origin) and {@link MESSAGE_ATTRIBUTES.replayed} with the
 * reason it was parked. The parked marks (reason, invalid field) stay behind,
 * and so does the deferral count: a replay starts a new deferral budget, and
 * the handler confirms its facts before deciding anything (the stale-message
 * rule, lambda/redrive/message-freshness.ts).
 */
export function replayAttributesOf(
  parked: ReceivedParkedMessage,
): Record<string, MessageAttributeValue> {
  const origin = parked.messageAttributes[MESSAGE_ATTRIBUTES.origin]?.StringValue;
  return {
    [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute(parked.meta.originMessageId),
    ...(origin !== undefined &&
      origin !== '' && { [MESSAGE_ATTRIBUTES.origin]: stringAttribute(origin.slice(0, 64)) }),
    [MESSAGE_ATTRIBUTES.replayed]: stringAttribute(parked.meta.reason),
  };
}
