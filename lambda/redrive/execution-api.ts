/**
 * The Step Functions calls of the redrive path, with their errors sorted into
 * "refused for good" (returned) and "try again later" (thrown as RetryableError).
 */
import { createHash } from 'node:crypto';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { awsErrorName, rethrowClassified } from '../shared/aws-errors';
import { type Patience, patientlyThrottled } from '../shared/throttle-patience';
import type { ExecutionStatusChange } from './failure-event';

/** RedriveExecution errors that no retry can fix. */
const REFUSALS = new Set([
  'ExecutionNotRedrivable',
  'ExecutionDoesNotExist',
  'InvalidArn',
  'ValidationException',
]);

/**
 * The RedriveExecution client token of a failure: SHA-256 of its idempotency key,
 * 64 hex characters (the API's maximum), so the API itself also dedupes a retry.
 */
export function clientTokenFor(failureKey: string): string {
  return createHash('sha256').update(failureKey).digest('hex');
}

export type RedriveCallResult =
  | { readonly outcome: 'redriven'; readonly redriveDate: string }
  | { readonly outcome: 'refused'; readonly errorName: string };

/**
 * Redrives an execution; throttling is waited out until `patience.deadline`,
 * other transient errors are thrown as RetryableError, refusals are returned.
 */
export async function redriveExecution(
  sfn: SFNClient,
  executionArn: string,
  clientToken: string,
  patience: Patience,
): Promise<RedriveCallResult> {
  try {
    const command = new RedriveExecutionCommand({ executionArn, clientToken });
    const response = await patientlyThrottled(() => sfn.send(command), patience);
    return { outcome: 'redriven', redriveDate: response.redriveDate?.toISOString() ?? '' };
  } catch (error) {
    if (REFUSALS.has(awsErrorName(error))) {
      return { outcome: 'refused', errorName: awsErrorName(error) };
    }
    return rethrowClassified(error, 'RedriveExecution');
  }
}

/**
 * The execution's status change as DescribeExecution reports it now. Returns
 * undefined when the execution does not exist.
 *
 * `completing` (the default) fills in an event of the older format: a field
 * DescribeExecution leaves out keeps the event's value. `confirming` replaces
 * the facts of a message that may be stale: only what DescribeExecution says
 * counts, since the message's redriveCount, error and stopDate may describe an
 * earlier failure (a field it leaves out stays unknown, and is described again).
 */
export async function describeStatusChange(
  sfn: SFNClient,
  change: ExecutionStatusChange,
  patience: Patience,
  mode: 'completing' | 'confirming' = 'completing',
): Promise<ExecutionStatusChange | undefined> {
  try {
    const command = new DescribeExecutionCommand({ executionArn: change.executionArn });
    const execution = await patientlyThrottled(() => sfn.send(command), patience);
    const fallback = mode === 'completing' ? change : undefined;
    return {
      ...change,
      status: execution.status ?? change.status,
      redriveCount: execution.redriveCount ?? fallback?.redriveCount,
      redriveStatus: execution.redriveStatus ?? fallback?.redriveStatus,
      redriveStatusReason: execution.redriveStatusReason ?? fallback?.redriveStatusReason,
      errorName: execution.error ?? fallback?.errorName,
      stopDate: execution.stopDate?.getTime() ?? fallback?.stopDate,
    };
  } catch (error) {
    if (awsErrorName(error) === 'ExecutionDoesNotExist') return undefined;
    return rethrowClassified(error, 'DescribeExecution');
  }
}
