/**
 * Reading a dead-letter queue without consuming it.
 *
 * SQS has no peek: the only way to read a message is ReceiveMessage, which
 * hides it from every other reader for a visibility timeout. So a scan
 * receives with a short timeout, 10 at a time (the most SQS returns), until
 * the queue has nothing more to give or `max` messages were read, and then
 * makes what it read visible again at once (ChangeMessageVisibility 0). While
 * a scan runs, and for the visibility timeout if it is killed, another reader
 * (a second `autoheal dlq list`, the SQS console's poll) does not see the
 * messages it holds. Receiving also counts: each scan adds one to a message's
 * ApproximateReceiveCount, which a dead-letter queue (no redrive policy of its
 * own) does not act on.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** How a scan reads. */
export interface ScanOptions {
  /** Stop after this many messages. */
  readonly maxMessages: number;
  /** How long each received message stays hidden while the scan runs. */
  readonly visibilityTimeoutSeconds: number;
  /**
   * Long-poll wait of each receive: above 0, SQS asks every server, so an
   * empty answer means the queue has no visible message (a short poll samples
   * a subset of servers and may answer empty while messages remain).
   * @default 1
   */
  readonly waitTimeSeconds?: number;
  /** Stops the scan before its next receive (Ctrl-C). @default never */
  readonly interrupted?: () => boolean;
}

/** What a scan read, and whether it saw the whole queue. */
export interface QueueScan {
  /** Distinct messages, in the order received (a standard queue may deliver one twice: the latest receipt wins). */
  readonly messages: readonly Message[];
  /**
   * Why the scan may have missed messages: `max` (it read `maxMessages`),
   * `wrapped` (messages it read came back: the visibility timeout passed
   * during the scan), `interrupted`; undefined when it emptied the queue's view.
   */
  readonly incomplete?: 'max' | 'wrapped' | 'interrupted';
}

/** At most 10 messages per ReceiveMessage and per batch call. */
export const SQS_BATCH = 10;

/** One ReceiveMessage with every attribute Autoheal and the DLQ senders stamp. */
export async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  max: number,
  visibilityTimeoutSeconds: number,
  waitTimeSeconds: number,
): Promise<Message[]> {
  const answer = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(SQS_BATCH, max),
      VisibilityTimeout: visibilityTimeoutSeconds,
      WaitTimeSeconds: waitTimeSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return answer.Messages ?? [];
}

/**
 * Reads up to `maxMessages` messages of the queue and leaves them hidden for
 * the visibility timeout; call {@link releaseMessages} when done with them.
 *
 * @example
 * ```ts
 * const scan = await scanQueue(sqs, dlqUrl, { maxMessages: 1000, visibilityTimeoutSeconds: 60 });
 * await releaseMessages(sqs, dlqUrl, scan.messages);
 * ```
 */
export async function scanQueue(
  sqs: SQSClient,
  queueUrl: string,
  options: ScanOptions,
): Promise<QueueScan> {
  const byId = new Map<string, Message>();
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  while (byId.size < options.maxMessages) {
    if (options.interrupted?.()) return { messages: [...byId.values()], incomplete: 'interrupted' };
    const received = await receiveBatch(
      sqs,
      queueUrl,
      options.maxMessages - byId.size,
      options.visibilityTimeoutSeconds,
      waitTimeSeconds,
    );
    if (received.length === 0) return { messages: [...byId.values()] };
    let fresh = 0;
    for (const message of received) {
      const id = message.MessageId ?? '';
      if (!byId.has(id)) fresh++;
      byId.set(id, message);
    }
    if (fresh === 0) return { messages: [...byId.values()], incomplete: 'wrapped' };
  }
  return { messages: [...byId.values()], incomplete: 'max' };
}

/**
 * Makes received messages visible again at once. Best effort: a message it
 * cannot release becomes visible when its visibility timeout ends anyway.
 */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Pick<Message, 'ReceiptHandle'>[],
): Promise<void> {
  const handles = messages
    .map((m) => m.ReceiptHandle)
    .filter((h): h is string => h !== undefined && h !== '');
  for (let i = 0; i < handles.length; i += SQS_BATCH) {
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: handles
            .slice(i, i + SQS_BATCH)
            .map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    } catch {
      // They reappear when their visibility timeout ends.
    }
  }
}
