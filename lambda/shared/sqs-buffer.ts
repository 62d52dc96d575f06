/**
 * Operations on the durable buffer: deferring a message without a running
 * Lambda, and parking one in the dead-letter queue with its reason. Both stamp
 * provenance attributes so an operator can trace a parked or deferred message
 * back to the first message that carried it.
 */
import {
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { rethrowClassified } from './aws-errors';
import { MESSAGE_ATTRIBUTES } from './contract';
import { MAX_FUTURE_SKEW_MS } from './event-time';

/** SQS caps DelaySeconds at 15 minutes; longer delays are taken in several hops. */
export const MAX_SQS_DELAY_SECONDS = 900;

/** SQS message attribute values are capped; reasons are truncated well below that. */
const MAX_REASON_LENGTH = 1024;

function stringAttribute(value: string) {
  return { DataType: 'String', StringValue: value };
}

/** An `autoheal-origin` value is a short word (`sweeper`); anything longer was not ours. */
const MAX_ORIGIN_LENGTH = 64;

type MessageAttributes = Record<string, MessageAttributeValue>;

/**
 * Where the message came from, carried to every message made from it: the
 * first SQS message id, and who enqueued it when that was not EventBridge.
 */
function provenanceOf(record: SQSRecord): MessageAttributes {
  const attributes = record.messageAttributes ?? {};
  const origin = attributes[MESSAGE_ATTRIBUTES.origin]?.stringValue;
  return {
    [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute(
      attributes[MESSAGE_ATTRIBUTES.originMessageId]?.stringValue ?? record.messageId,
    ),
    ...(origin !== undefined &&
      origin !== '' && {
        [MESSAGE_ATTRIBUTES.origin]: stringAttribute(origin.slice(0, MAX_ORIGIN_LENGTH)),
      }),
  };
}

/** How many times the failure in this message has been deferred before. */
export function deferralsSoFar(record: SQSRecord): number {
  const value = Number(record.messageAttributes?.[MESSAGE_ATTRIBUTES.deferrals]?.stringValue ?? 0);
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/**
 * Re-sends the message body unchanged with a delay of at most 15 minutes.
 *
 * Why SQS delay hops rather than one-time EventBridge Scheduler schedules: the
 * event stays in the one buffer that already has a DLQ and alarms, there is no
 * schedule quota to exhaust during a storm, and a delay of any length is a few
 * hops (1 h = 4). Each hop is a new message, so deferral never eats into the
 * work queue's maxReceiveCount. A duplicate hop is harmless: the redrive
 * behind it is idempotent. Returns the delay actually applied.
 *
 * @param extraAttributes String message attributes to stamp on the hop besides provenance
 */
export async function deferMessage(
  sqs: SQSClient,
  queueUrl: string,
  record: SQSRecord,
  delaySeconds: number,
  extraAttributes: Readonly<Record<string, string>> = {},
): Promise<number> {
  const hop = Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
  try {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: record.body,
        DelaySeconds: hop,
        MessageAttributes: {
          [MESSAGE_ATTRIBUTES.deferrals]: {
            DataType: 'Number',
            StringValue: String(deferralsSoFar(record) + 1),
          },
          ...provenanceOf(record),
          ...Object.fromEntries(
            Object.entries(extraAttributes).map(([name, value]) => [name, stringAttribute(value)]),
          ),
        },
      }),
    );
  } catch (error) {
    rethrowClassified(error, 'Deferring the message (SQS SendMessage)');
  }
  return hop;
}

/**
 * The most deferral hops one message may take before it is parked: twice the
 * hops the longest legitimate wait needs.
 *
 * A wait of W seconds takes ceil(W / 900) hops (each hop waits the full 15
 * minutes SQS allows, or what is left), and W is at most the handler's longest
 * configurable delay plus {@link MAX_FUTURE_SKEW_MS} (an event time may lie that
 * far ahead). The factor 2 keeps every legitimate wait far from the limit, even
 * when a hop is repeated (a duplicate send after a retried batch); a message
 * that would defer forever (a forged or mangled time the parser could not tell
 * from a real one) still reaches the dead-letter queue, and its alarm, within
 * twice the longest wait. Redrive (delays up to 12 h): 98 hops.
 *
 * @param longestWaitSeconds the longest delay the handler's config can ask for
 * @example
 * ```ts
 * deferralLimit(12 * 3600); // 98
 * ```
 */
export function deferralLimit(longestWaitSeconds: number): number {
  return 2 * Math.ceil((longestWaitSeconds + MAX_FUTURE_SKEW_MS / 1000) / MAX_SQS_DELAY_SECONDS);
}

/** Parked-reason prefix of a message that exceeded its {@link deferralLimit}. */
export const DEFERRAL_LIMIT_REASON = 'deferral-limit';

export type DeferralResult =
  | { readonly outcome: 'deferred'; readonly hopSeconds: number }
  | { readonly outcome: 'parked'; readonly deferrals: number };

/**
 * Defers the message like {@link deferMessage}, unless it has already been
 * deferred `limit` times: then it is parked in the dead-letter queue with the
 * reason `deferral-limit` (so its alarm fires) instead of deferring without end.
 */
export async function deferWithinLimit(
  sqs: SQSClient,
  queues: { readonly workQueueUrl: string; readonly deadLetterQueueUrl: string },
  record: SQSRecord,
  delaySeconds: number,
  limit: number,
  extraAttributes: Readonly<Record<string, string>> = {},
): Promise<DeferralResult> {
  const deferrals = deferralsSoFar(record);
  if (deferrals >= limit) {
    await parkMessage(
      sqs,
      queues.deadLetterQueueUrl,
      record,
      `${DEFERRAL_LIMIT_REASON}: deferred ${deferrals} times (the limit, twice the hops of the longest configurable wait) and still ${Math.ceil(delaySeconds)} s from due; check the time in the event before replaying it`,
    );
    return { outcome: 'parked', deferrals };
  }
  const hopSeconds = await deferMessage(
    sqs,
    queues.workQueueUrl,
    record,
    delaySeconds,
    extraAttributes,
  );
  return { outcome: 'deferred', hopSeconds };
}

/**
 * Moves the message body, unchanged, to the dead-letter queue with its reason,
 * so nothing is lost and an operator can read why and redrive it from there.
 */
export async function parkMessage(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  record: SQSRecord,
  reason: string,
  invalidField?: string,
): Promise<void> {
  await parkBody(sqs, deadLetterQueueUrl, record.body, reason, invalidField, provenanceOf(record));
}

/**
 * Sends `body` to the dead-letter queue with its reason, for events that did
 * not arrive in an SQS message (e.g. an asynchronous Lambda invocation).
 *
 * @param provenance attributes saying where the event came from, when it came in a message
 */
export async function parkBody(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  body: string,
  reason: string,
  invalidField?: string,
  provenance: MessageAttributes = {},
): Promise<void> {
  try {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: body,
        MessageAttributes: {
          ...provenance,
          [MESSAGE_ATTRIBUTES.parkedReason]: stringAttribute(reason.slice(0, MAX_REASON_LENGTH)),
          ...(invalidField !== undefined && {
            [MESSAGE_ATTRIBUTES.invalidField]: stringAttribute(invalidField.slice(0, 256)),
          }),
        },
      }),
    );
  } catch (error) {
    rethrowClassified(error, 'Parking the message in the dead-letter queue (SQS SendMessage)');
  }
}
