/**
 * The AppFlow calls Autoheal makes, with their errors sorted into "refused"
 * (returned, never retried) and "try again later" (thrown as RetryableError).
 *
 * AppFlow documents only InternalServerException as transient ("Try again
 * later"); ConflictException and ServiceQuotaExceededException are not, so
 * they are refused, recorded with their reason and notified, not retried.
 */
import { createHash } from 'node:crypto';
import { type AppflowClient, DescribeFlowCommand, StartFlowCommand } from '@aws-sdk/client-appflow';
import { awsErrorName, rethrowClassified } from '../shared/aws-errors';

/** StartFlow errors that no retry can fix. */
const REFUSALS = new Set([
  'ResourceNotFoundException',
  'ConflictException',
  'ServiceQuotaExceededException',
  'ValidationException',
  'AccessDeniedException',
]);

/** What Autoheal needs to know about a flow before starting it. */
export interface FlowDescription {
  readonly flowName: string;
  /** `Active | Deprecated | Deleted | Draft | Errored | Suspended` (open: unknown values are not started). */
  readonly flowStatus: string;
  readonly flowStatusMessage: string;
  /** `Scheduled | Event | OnDemand`. */
  readonly triggerType: string;
}

export type StartFlowResult =
  | {
      readonly outcome: 'started';
      /** Absent when StartFlow only activated a Scheduled or Event flow. */
      readonly executionId?: string;
      readonly flowStatus: string;
    }
  | { readonly outcome: 'refused'; readonly errorName: string };

/**
 * A StartFlow client token: SHA-256 hex (64 of the allowed 256 characters) of
 * the parts that identify one intended run, so a retry of the same intent is
 * deduplicated by AppFlow too (for 8 hours).
 */
export function flowClientToken(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('#')).digest('hex');
}

/** Describes a flow; undefined when it does not exist. */
export async function describeFlow(
  appflow: AppflowClient,
  flowName: string,
): Promise<FlowDescription | undefined> {
  try {
    const flow = await appflow.send(new DescribeFlowCommand({ flowName }));
    return {
      flowName,
      flowStatus: flow.flowStatus ?? 'Unknown',
      flowStatusMessage: flow.flowStatusMessage ?? '',
      triggerType: flow.triggerConfig?.triggerType ?? 'Unknown',
    };
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    return rethrowClassified(error, 'DescribeFlow');
  }
}

/**
 * Starts (OnDemand) or activates (Scheduled, Event) a flow. Transient failures
 * are thrown as RetryableError; documented refusals are returned.
 */
export async function startFlow(
  appflow: AppflowClient,
  flowName: string,
  clientToken: string,
): Promise<StartFlowResult> {
  try {
    const response = await appflow.send(new StartFlowCommand({ flowName, clientToken }));
    // Keys are omitted, not undefined: results are stored as idempotency records.
    return {
      outcome: 'started',
      ...(response.executionId && { executionId: response.executionId }),
      flowStatus: response.flowStatus ?? '',
    };
  } catch (error) {
    if (REFUSALS.has(awsErrorName(error))) {
      return { outcome: 'refused', errorName: awsErrorName(error) };
    }
    return rethrowClassified(error, 'StartFlow');
  }
}
