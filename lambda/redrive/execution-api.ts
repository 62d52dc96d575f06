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
 * Completes an event of the older format with the redrive fields from
 * DescribeExecution. Returns undefined when the execution does not exist.
 */
export async function describeStatusChange(
  sfn: SFNClient,
  change: ExecutionStatusChange,
  patience: Patience,
): Promise<ExecutionStatusChange | undefined> {
  try {
    const command = new DescribeExecutionCommand({ executionArn: change.executionArn });
    const execution = await patientlyThrottled(() => sfn.send(command), patience);
    return {
      ...change,
      status: execution.status ?? change.status,
      redriveCount: execution.redriveCount ?? change.redriveCount,
      redriveStatus: execution.redriveStatus ?? change.redriveStatus,
      redriveStatusReason: execution.redriveStatusReason ?? change.redriveStatusReason,
      errorName: execution.error ?? change.errorName,
      stopDate: execution.stopDate?.getTime() ?? change.stopDate,
    };
  } catch (error) {
    if (awsErrorName(error) === 'ExecutionDoesNotExist') return undefined;
    return rethrowClassified(error, 'DescribeExecution');
  }
}
