/**
 * The SendMessage requests an SQS-fed handler makes about the message it
 * received: putting it back on its work queue for later, or parking it in its
 * dead-letter queue. Written out independently of the handlers.
 */
import type { SQSRecord } from 'aws-lambda';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/contract';
import { stringAttribute } from './aws-mocks';

export interface Deferral {
  /** The handler's work queue. */
  readonly queueUrl: string;
  readonly body: string;
  readonly delaySeconds: number;
  /** How many times the message has been deferred, this time included. */
  readonly deferrals: number;
  /** The id of the message as it was first received. */
  readonly originMessageId: string;
  /** Who enqueued the first message, when not EventBridge (`sweeper`). */
  readonly origin?: string;
}

/** The SendMessage input that defers a message back to the handler's work queue. */
export function deferredMessage({
  queueUrl,
  body,
  delaySeconds,
  deferrals,
  originMessageId,
  origin,
}: Deferral) {
  return {
    QueueUrl: queueUrl,
    MessageBody: body,
    DelaySeconds: delaySeconds,
    MessageAttributes: {
      [MESSAGE_ATTRIBUTES.deferrals]: { DataType: 'Number', StringValue: String(deferrals) },
      [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute(originMessageId),
      ...(origin !== undefined && { [MESSAGE_ATTRIBUTES.origin]: stringAttribute(origin) }),
    },
  };
}

/** The SendMessage input that parks an invalid `record` in the dead-letter queue, naming `field`. */
export function parkedInvalidEvent(deadLetterQueueUrl: string, record: SQSRecord, field: string) {
  return {
    QueueUrl: deadLetterQueueUrl,
    MessageBody: record.body,
    MessageAttributes: {
      [MESSAGE_ATTRIBUTES.parkedReason]: stringAttribute(
        expect.stringMatching(`^invalid-event: ${field}: `),
      ),
      [MESSAGE_ATTRIBUTES.invalidField]: stringAttribute(field),
      [MESSAGE_ATTRIBUTES.originMessageId]: stringAttribute(record.messageId),
    },
  };
}
