/**
 * One SQS SendMessageBatch call, answered entry by entry: the sweeper and the
 * brake keeper both send up to 10 failures at once and retry only the entries
 * SQS failed on its side.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { awsErrorName } from './aws-errors';

/** Why an entry was not sent, and whether sending it again may succeed. */
export interface EntryFailure {
  readonly errorName: string;
  readonly retryable: boolean;
}

/**
 * Sends `entries` (at most 10) in one call and returns the entries that
 * failed, by `Id`. A failed call fails every entry, retryably; a sender fault
 * (a malformed entry) fails the same way on every attempt, so it is not
 * retryable. Never throws.
 *
 * @example
 * ```ts
 * const failures = await sendMessageBatch(sqs, queueUrl, [{ Id: 'a', MessageBody: '{}' }]);
 * if (failures.get('a')?.retryable) ...
 * ```
 */
export async function sendMessageBatch(
  sqs: Pick<SQSClient, 'send'>,
  queueUrl: string,
  entries: readonly SendMessageBatchRequestEntry[],
): Promise<Map<string, EntryFailure>> {
  const failures = new Map<string, EntryFailure>();
  try {
    const response = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [...entries] }),
    );
    for (const failure of response?.Failed ?? []) {
      if (failure.Id === undefined) continue;
      failures.set(failure.Id, {
        errorName: failure.Code ?? 'unknown',
        retryable: !failure.SenderFault,
      });
    }
  } catch (error) {
    for (const entry of entries) {
      failures.set(entry.Id as string, { errorName: awsErrorName(error), retryable: true });
    }
  }
  return failures;
}
