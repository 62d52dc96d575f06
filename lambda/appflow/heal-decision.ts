/**
 * The flow healer's decisions: pure functions from the facts about one AppFlow
 * event, the healing policy, the state Autoheal keeps and the current time to
 * what Autoheal should do. No I/O, no clock, no randomness.
 *
 * Two healings:
 * - a failed run of an OnDemand flow is re-run, after a growing delay, at most
 *   `maxReruns` times per original failed run;
 * - a scheduled flow AppFlow deactivated is re-activated after a cool-down, at
 *   most `maxReactivations` times within `reactivationWindowHours`.
 */
import type { FlowHealingPolicy } from '../shared/autoheal-config';
import { delayBeforeAttempt } from '../shared/backoff';
import { APPFLOW_EVENT } from '../shared/contract';
import type { FlowDescription } from './flow-api';
import type { FlowDeactivated, FlowRunEnded } from './flow-run-event';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_SECONDS = 60 * 60;

/** Flow statuses a StartFlow cannot bring back: a person has to act. */
const NOT_REACTIVATABLE = new Set(['Deleted', 'Draft', 'Deprecated']);

/** Not due yet: come back in `delaySeconds` (SQS hops of at most 15 minutes). */
export interface Deferral {
  readonly action: 'defer';
  /** Epoch milliseconds the action comes due. */
  readonly dueAt: number;
  readonly delaySeconds: number;
}

/** Why a run needs no action at all (no notice). */
export type RerunIgnoreReason =
  | 'run-succeeded'
  | 'run-cancelled'
  | 'reruns-disabled'
  | 'not-on-demand';

export type RerunDecision =
  | { readonly action: 'ignore'; readonly reason: RerunIgnoreReason; readonly detail: string }
  | Deferral
  | { readonly action: 'rerun'; readonly rerunNumber: number }
  | { readonly action: 'give-up'; readonly reason: 'max-reruns'; readonly detail: string };

export type ReactivationTiming =
  | { readonly action: 'ignore'; readonly reason: 'reactivation-disabled'; readonly detail: string }
  | Deferral
  | { readonly action: 'due' };

export type ReactivationDecision =
  | {
      readonly action: 'skip';
      readonly reason: 'flow-not-found' | 'flow-not-reactivatable';
      readonly detail: string;
    }
  | {
      readonly action: 'ignore';
      readonly reason: 'already-active' | 'not-scheduled';
      readonly detail: string;
    }
  | {
      readonly action: 'give-up';
      readonly reason: 'max-reactivations';
      readonly detail: string;
      /** Re-activations within the window. */
      readonly recent: number;
    }
  | {
      readonly action: 'reactivate';
      /** Re-activations within the window before this one. */
      readonly recent: number;
    };

/** Defers to `dueAt` unless it is at most a second away. */
function deferUntil(dueAt: number, now: number): Deferral | undefined {
  if (dueAt <= now + SECOND_MS) return undefined;
  return { action: 'defer', dueAt, delaySeconds: Math.ceil((dueAt - now) / SECOND_MS) };
}

/**
 * True for the status of a run someone cancelled (CancelFlowExecutions). AppFlow's
 * API names the run statuses `CancelStarted` and `Canceled`; its End Flow Run
 * Report carries a free-text status (`Execution Successful`, `Execution Failed`)
 * whose cancelled wording AWS does not document. So any status that speaks of
 * cancelling, in either spelling and any case (`Execution Canceled`,
 * `Execution Cancelled`, `CancelStarted`), counts: a cancelled run was stopped
 * on purpose, and re-running it would undo an operator's decision.
 */
export function isCancelledRun(status: string): boolean {
  return /cancel/i.test(status);
}

/** `ONDEMAND` in events, `OnDemand` in the API: compared without case, `-` or `_`. */
export function isOnDemandTrigger(triggerType: string): boolean {
  return triggerType.replace(/[-_]/g, '').toUpperCase() === 'ONDEMAND';
}

/**
 * Why a run needs no re-run at all, whatever Autoheal has recorded about it;
 * undefined when it may need one. Checked before any state is read.
 */
export function rerunIgnored(
  run: FlowRunEnded,
  policy: FlowHealingPolicy,
): Extract<RerunDecision, { action: 'ignore' }> | undefined {
  if (run.status === APPFLOW_EVENT.successStatus) {
    return { action: 'ignore', reason: 'run-succeeded', detail: `status ${run.status}` };
  }
  if (isCancelledRun(run.status)) {
    return {
      action: 'ignore',
      reason: 'run-cancelled',
      detail: `status ${run.status}: the run was cancelled on purpose, so it is not re-run`,
    };
  }
  if (!policy.rerunFailedRuns) {
    return {
      action: 'ignore',
      reason: 'reruns-disabled',
      detail: 'rerunFailedRuns is false',
    };
  }
  // StartFlow only activates a Scheduled or Event flow; AppFlow itself runs it again.
  if (!isOnDemandTrigger(run.triggerType)) {
    return {
      action: 'ignore',
      reason: 'not-on-demand',
      detail: `trigger type ${run.triggerType}: AppFlow runs the flow again on its own trigger`,
    };
  }
  return undefined;
}

/**
 * Decides what to do about one ended run.
 *
 * @param run the validated End Flow Run Report
 * @param policy the healing policy
 * @param rerunsSoFar how many re-runs of the original failed run were started before this run
 *   (0 when this run is itself the original)
 * @param originExecutionId execution id of the original failed run (seeds the jitter)
 * @param now epoch milliseconds
 */
export function decideRerun(
  run: FlowRunEnded,
  policy: FlowHealingPolicy,
  rerunsSoFar: number,
  originExecutionId: string,
  now: number,
): RerunDecision {
  const ignored = rerunIgnored(run, policy);
  if (ignored) return ignored;
  if (rerunsSoFar >= policy.maxReruns) {
    return {
      action: 'give-up',
      reason: 'max-reruns',
      detail: `re-ran ${rerunsSoFar} time(s); maxReruns is ${policy.maxReruns}`,
    };
  }
  // Counted from the end of the failed run, so redeliveries and deferral hops agree on it.
  const delaySeconds = delayBeforeAttempt(
    policy.delay,
    rerunsSoFar,
    `${originExecutionId}#${rerunsSoFar}`,
  );
  return (
    deferUntil(run.endedAt + delaySeconds * SECOND_MS, now) ?? {
      action: 'rerun',
      rerunNumber: rerunsSoFar + 1,
    }
  );
}

/**
 * Decides whether a deactivation is due for re-activation yet (before any AWS call).
 *
 * @param now epoch milliseconds
 */
export function decideReactivationTiming(
  event: FlowDeactivated,
  policy: FlowHealingPolicy,
  now: number,
): ReactivationTiming {
  if (!policy.reactivateDeactivated) {
    return {
      action: 'ignore',
      reason: 'reactivation-disabled',
      detail: 'reactivateDeactivated is false',
    };
  }
  const dueAt = event.deactivatedAt + policy.reactivationCooldownMinutes * MINUTE_MS;
  return deferUntil(dueAt, now) ?? { action: 'due' };
}

/** How many of `reactivatedAt` (epoch seconds) fall within the window ending at `nowSeconds`. */
export function reactivationsWithin(
  reactivatedAt: readonly number[],
  windowSeconds: number,
  nowSeconds: number,
): number {
  return reactivatedAt.filter((at) => at > nowSeconds - windowSeconds).length;
}

/**
 * Decides whether to re-activate a deactivated flow, once its cool-down is over.
 *
 * @param flow the flow as DescribeFlow reports it; undefined when it does not exist
 * @param recentReactivations epoch seconds of Autoheal's earlier re-activations of the flow
 * @param now epoch milliseconds
 */
export function decideReactivation(
  flow: FlowDescription | undefined,
  recentReactivations: readonly number[],
  policy: FlowHealingPolicy,
  now: number,
): ReactivationDecision {
  if (!flow) {
    return { action: 'skip', reason: 'flow-not-found', detail: 'DescribeFlow found no such flow' };
  }
  if (flow.flowStatus === 'Active') {
    return {
      action: 'ignore',
      reason: 'already-active',
      detail: 'the flow is Active again (re-activated by someone else or by an earlier attempt)',
    };
  }
  if (NOT_REACTIVATABLE.has(flow.flowStatus)) {
    return {
      action: 'skip',
      reason: 'flow-not-reactivatable',
      detail: `the flow is ${flow.flowStatus}${flow.flowStatusMessage ? `: ${flow.flowStatusMessage}` : ''}; StartFlow cannot re-activate it`,
    };
  }
  if (flow.triggerType !== 'Scheduled') {
    return {
      action: 'ignore',
      reason: 'not-scheduled',
      detail: `trigger type ${flow.triggerType}: only Scheduled flows are re-activated`,
    };
  }
  const windowSeconds = policy.reactivationWindowHours * HOUR_SECONDS;
  const recent = reactivationsWithin(
    recentReactivations,
    windowSeconds,
    Math.floor(now / SECOND_MS),
  );
  if (recent >= policy.maxReactivations) {
    return {
      action: 'give-up',
      reason: 'max-reactivations',
      detail: `re-activated ${recent} time(s) in the last ${policy.reactivationWindowHours} h; maxReactivations is ${policy.maxReactivations}`,
      recent,
    };
  }
  return { action: 'reactivate', recent };
}
