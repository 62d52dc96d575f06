/**
 * Moving dead-letter messages back to their work queue, marked as replays,
 * without ever losing one.
 *
 * Per batch of 10: SendMessageBatch to the work queue, then DeleteMessageBatch
 * from the dead-letter queue for exactly the entries SQS confirmed as sent.
 * A message whose send failed stays in the dead-letter queue (it is made
 * visible again at the end). A crash, a Ctrl-C or a failed delete between the
 * send and the delete leaves a copy in both queues: running `replay` again
 * sends it once more. Duplicates are made harmless rather than impossible
 * (SQS is at-least-once anyway): the redrive handler keys each failure's
 * redrive by execution and redrive count in its idempotency table, and the
 * flow healer each run's action by the run, so the second copy is a no-op.
 *
 * Only the messages the operator confirmed move: the move pass receives the
 * queue again and moves the planned message ids only, so a message parked
 * after the plan was shown is left alone. The messages it receives and does
 * not move are hidden from other readers until it ends (released then), or
 * for its visibility timeout if it is killed.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { awsErrorName } from '../../lambda/shared/aws-errors';
import type { DeadLetterQueueName } from './parked-message';
import { describeParkedMessage, replayAttributesOf } from './parked-message';
import { receiveBatch, releaseMessages, SQS_BATCH } from './read-queue';

/** Where and how to move. */
export interface MoveOptions {
  readonly queue: DeadLetterQueueName;
  readonly deadLetterQueueUrl: string;
  readonly workQueueUrl: string;
  /** The message ids to move (the confirmed plan). */
  readonly messageIds: ReadonlySet<string>;
  /** How long received messages stay hidden during the move; it must outlast the move. */
  readonly visibilityTimeoutSeconds: number;
  /** @default 1 */
  readonly waitTimeSeconds?: number;
  /** Epoch ms. */
  readonly now: () => number;
  /** Called after each batch with how many of the plan it settled (moved or failed). */
  readonly onBatch?: (settled: number, totals: MoveTotals) => void;
  /** Stops before the next batch (Ctrl-C). */
  readonly interrupted?: () => boolean;
}

/** A planned message that did not move, and why. */
export interface MoveFailure {
  readonly messageId: string;
  readonly error: string;
}

/** Running counts of a move. */
export interface MoveTotals {
  readonly moved: number;
  readonly failed: number;
}

/** What a move did. */
export interface MoveResult {
  /** Sent to the work queue and deleted from the dead-letter queue. */
  readonly moved: readonly string[];
  /** Not sent: still in the dead-letter queue. */
  readonly failed: readonly MoveFailure[];
  /** Sent, but the delete failed: a copy is in both queues (a harmless duplicate). */
  readonly sentNotDeleted: readonly MoveFailure[];
  /** Planned, but not received during the move (gone, or held by another reader). */
  readonly notFound: readonly string[];
  readonly interrupted: boolean;
}

/**
 * Sends the entries and returns the ids SQS confirmed, and why the others
 * failed. Not lambda/shared/sqs-send-batch.ts's `sendMessageBatch`: that one
 * reports failures only, so an entry SQS listed in neither `Successful` nor
 * `Failed` would count as sent; before deleting a dead-letter message this
 * requires SQS's positive confirmation of its copy.
 */
async function sendConfirmed(
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly SendMessageBatchRequestEntry[],
): Promise<{ sent: Set<string>; failed: Map<string, string> }> {
  const sent = new Set<string>();
  const failed = new Map<string, string>();
  try {
    const answer = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [...entries] }),
    );
    for (const ok of answer.Successful ?? []) if (ok.Id !== undefined) sent.add(ok.Id);
    for (const failure of answer.Failed ?? []) {
      if (failure.Id !== undefined)
        failed.set(failure.Id, `${failure.Code ?? 'unknown'}: ${failure.Message ?? ''}`.trim());
    }
  } catch (error) {
    for (const entry of entries) failed.set(entry.Id as string, awsErrorName(error));
  }
  for (const entry of entries) {
    const id = entry.Id as string;
    if (!sent.has(id) && !failed.has(id)) failed.set(id, 'not confirmed by SQS');
  }
  return { sent, failed };
}

/** Deletes the received messages; returns why each one that was not deleted was not. */
async function deleteReceived(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<Map<string, string>> {
  const notDeleted = new Map<string, string>();
  if (messages.length === 0) return notDeleted;
  const entries = messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle }));
  try {
    const answer = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
    const deleted = new Set((answer.Successful ?? []).map((s) => s.Id));
    const reasons = new Map((answer.Failed ?? []).map((f) => [f.Id, f.Code ?? 'unknown']));
    messages.forEach((m, i) => {
      if (!deleted.has(String(i))) {
        notDeleted.set(m.MessageId ?? '', reasons.get(String(i)) ?? 'not confirmed by SQS');
      }
    });
  } catch (error) {
    for (const m of messages) notDeleted.set(m.MessageId ?? '', awsErrorName(error));
  }
  return notDeleted;
}

/**
 * Moves the planned messages to the work queue.
 *
 * @example
 * ```ts
 * const result = await moveMessages(sqs, { queue: 'redrive', deadLetterQueueUrl, workQueueUrl, messageIds, visibilityTimeoutSeconds: 300, now: Date.now });
 * if (result.failed.length > 0) process.exitCode = 1;
 * ```
 */
export async function moveMessages(sqs: SQSClient, options: MoveOptions): Promise<MoveResult> {
  const moved: string[] = [];
  const failed: MoveFailure[] = [];
  const sentNotDeleted: MoveFailure[] = [];
  const settled = new Set<string>();
  /** Received but not to be moved now (not planned, or its send failed): released at the end. */
  const held = new Map<string, Message>();
  let interrupted = false;
  const totals = () => ({ moved: moved.length, failed: failed.length });
  try {
    while (settled.size < options.messageIds.size) {
      if (options.interrupted?.()) {
        interrupted = true;
        break;
      }
      const received = await receiveBatch(
        sqs,
        options.deadLetterQueueUrl,
        SQS_BATCH,
        options.visibilityTimeoutSeconds,
        options.waitTimeSeconds ?? 1,
      );
      if (received.length === 0) break;
      const toMove: Message[] = [];
      let fresh = 0;
      for (const message of received) {
        const id = message.MessageId ?? '';
        if (!settled.has(id) && !held.has(id)) fresh++;
        if (options.messageIds.has(id) && !settled.has(id)) toMove.push(message);
        else if (!settled.has(id)) held.set(id, message);
      }
      // Only messages seen before: the visibility timeout passed during the move.
      if (fresh === 0 && toMove.length === 0) break;
      if (toMove.length === 0) continue;

      const parked = toMove.map((m) => describeParkedMessage(m, options.queue, options.now()));
      const { sent, failed: sendFailures } = await sendConfirmed(
        sqs,
        options.workQueueUrl,
        parked.map((p, i) => ({
          Id: String(i),
          MessageBody: p.body,
          MessageAttributes: replayAttributesOf(p),
        })),
      );
      const sentMessages = toMove.filter((_, i) => sent.has(String(i)));
      toMove.forEach((m, i) => {
        const error = sendFailures.get(String(i));
        if (error === undefined) return;
        failed.push({ messageId: m.MessageId ?? '', error });
        held.set(m.MessageId ?? '', m);
      });
      const notDeleted = await deleteReceived(sqs, options.deadLetterQueueUrl, sentMessages);
      for (const m of sentMessages) {
        const id = m.MessageId ?? '';
        const error = notDeleted.get(id);
        if (error === undefined) moved.push(id);
        else sentNotDeleted.push({ messageId: id, error });
      }
      for (const m of toMove) settled.add(m.MessageId ?? '');
      options.onBatch?.(toMove.length, totals());
    }
  } finally {
    await releaseMessages(sqs, options.deadLetterQueueUrl, [...held.values()]);
  }
  const notFound = [...options.messageIds].filter((id) => !settled.has(id));
  return { moved, failed, sentNotDeleted, notFound, interrupted };
}
