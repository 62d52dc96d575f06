/**
 * The redrive decision: a pure function from the facts about one execution
 * status change, the state machine's policy and the current time to what
 * Autoheal should do. No I/O, no clock, no randomness: every row of the
 * README's decision table is a unit test of this function.
 */
import type { RedrivePolicy } from '../shared/autoheal-config';
import { delayBeforeAttempt } from '../shared/backoff';
import { REDRIVE_WINDOW_DAYS, SFN_EVENT } from '../shared/contract';
import { firstMatchingEntry } from '../shared/error-names';
import type { ExecutionStatusChange } from './failure-event';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why a failure is not redriven; each is a metric dimension and a notice reason. */
export type SkipReason =
  | 'error-denied'
  | 'error-not-allowed'
  | 'not-redrivable'
  | 'redrive-window-expired'
  | 'before-live-healing'
  /** DescribeExecution says the execution does not exist (any more). */
  | 'execution-not-found';

/**
 * Why an event needs no action at all (no notice). `map-run-child`: a
 * Distributed Map child run is redriven by redriving its parent execution, whose
 * own failure event Autoheal handles; a notice per failed child (thousands in
 * one Map Run) would flood the topic.
 */
export type IgnoreReason =
  | 'not-a-failure'
  | 'status-not-configured'
  | 'redrive-in-progress'
  | 'map-run-child';

export type RedriveDecision =
  /** The event lacks the redrive fields: describe the execution, then decide again. */
  | { readonly action: 'describe' }
  | { readonly action: 'ignore'; readonly reason: IgnoreReason; readonly detail: string }
  /** Not due yet: come back in `delaySeconds`; no attempt is counted. */
  | { readonly action: 'defer'; readonly dueAt: number; readonly delaySeconds: number }
  | { readonly action: 'redrive'; readonly attempt: number }
  | { readonly action: 'give-up'; readonly reason: 'max-redrives'; readonly detail: string }
  | { readonly action: 'skip'; readonly reason: SkipReason; readonly detail: string };

/** Statuses that mean the execution is not (or no longer) failed. */
const NOT_FAILED = new Set(['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE']);

/** Identifies one failure of one execution: its next failure has a higher redrive count. */
export function failureKey(executionArn: string, redriveCount: number): string {
  return `${executionArn}#${redriveCount}`;
}

/**
 * Decides what to do about one execution status change.
 *
 * @param change the validated event (or the event completed by DescribeExecution)
 * @param policy the effective policy of the execution's state machine
 * @param now epoch milliseconds
 * @param liveSince epoch milliseconds since which the state machine has been
 *   under live healing (`liveSinceOf`), or undefined when it is not
 */
export function decideRedrive(
  change: ExecutionStatusChange,
  policy: RedrivePolicy,
  now: number,
  liveSince: number | undefined,
): RedriveDecision {
  const { status, redriveStatus, redriveCount, errorName } = change;
  // First: a child run is never acted on, whatever its status, and needs no DescribeExecution.
  if (change.isMapRunChild) {
    return {
      action: 'ignore',
      reason: 'map-run-child',
      detail: 'a Distributed Map child run is redriven by redriving its parent execution',
    };
  }
  if (NOT_FAILED.has(status)) {
    return { action: 'ignore', reason: 'not-a-failure', detail: `status ${status}` };
  }
  if (redriveStatus === 'REDRIVE_IN_PROGRESS') {
    return {
      action: 'ignore',
      reason: 'redrive-in-progress',
      detail: 'a redrive is already running',
    };
  }
  if (!(policy.statuses as readonly string[]).includes(status)) {
    return {
      action: 'ignore',
      reason: 'status-not-configured',
      detail: `status ${status} is not in ${policy.statuses.join(', ')}`,
    };
  }
  // Before any describe: a replayed day-old event costs no AWS call but its notice.
  if (
    !policy.observeOnly &&
    change.stopDate !== undefined &&
    (liveSince === undefined || change.stopDate < liveSince)
  ) {
    return {
      action: 'skip',
      reason: 'before-live-healing',
      detail:
        liveSince === undefined
          ? 'this deployment records no start of live healing for the state machine; redrive it by hand if it should run again'
          : `stopped at ${new Date(change.stopDate).toISOString()}, before live healing of its state machine began at ${new Date(liveSince).toISOString()}; redrive it by hand if it should run again`,
    };
  }
  // Older events lack the redrive fields; without stopDate the delay could never come due.
  if (redriveCount === undefined || redriveStatus === undefined || change.stopDate === undefined) {
    return { action: 'describe' };
  }
  if (redriveStatus === 'NOT_REDRIVABLE') {
    return {
      action: 'skip',
      reason: 'not-redrivable',
      detail:
        change.redriveStatusReason || 'Step Functions reports the execution as not redrivable',
    };
  }
  if (now - change.stopDate >= REDRIVE_WINDOW_DAYS * DAY_MS) {
    return {
      action: 'skip',
      reason: 'redrive-window-expired',
      detail: `stopped more than ${REDRIVE_WINDOW_DAYS} days ago`,
    };
  }
  const error = errorName ?? '';
  const denied = firstMatchingEntry(error, policy.errors.deny);
  if (denied !== undefined) {
    return {
      action: 'skip',
      reason: 'error-denied',
      detail: `error ${error} matches deny entry ${denied}`,
    };
  }
  if (
    policy.errors.allow.length > 0 &&
    firstMatchingEntry(error, policy.errors.allow) === undefined
  ) {
    return {
      action: 'skip',
      reason: 'error-not-allowed',
      detail: `error ${error || '(none)'} matches no allow entry`,
    };
  }
  if (redriveCount >= policy.maxRedrives) {
    return {
      action: 'give-up',
      reason: 'max-redrives',
      detail: `redriven ${redriveCount} time(s); maxRedrives is ${policy.maxRedrives}`,
    };
  }
  // The delay runs from the moment the execution stopped, so redeliveries and hops agree on it.
  const delaySeconds = delayBeforeAttempt(
    policy.delay,
    redriveCount,
    failureKey(change.executionArn, redriveCount),
  );
  const dueAt = change.stopDate + delaySeconds * 1000;
  if (dueAt > now + 1000) {
    return { action: 'defer', dueAt, delaySeconds: Math.ceil((dueAt - now) / 1000) };
  }
  return { action: 'redrive', attempt: redriveCount + 1 };
}

/**
 * The idempotency key under which the redrive handler records its action on
 * a failure, and the sweeper looks up: the failure key, marked when the machine
 * is observed only, so an observed decision never stands in for a redrive.
 */
export function redriveIdempotencyKey(key: string, observeOnly: boolean): string {
  return observeOnly ? `${key}#observe-only` : key;
}

/** What a redriven execution's outcome says about its downstream (the storm brake's signals). */
export type BreakerSignal = 'relapse' | 'recovery';

/** Skips about old or unknown failures: no news about the downstream now. */
const NO_NEWS: ReadonlySet<string> = new Set([
  'before-live-healing',
  'redrive-window-expired',
  'execution-not-found',
]);

/**
 * The breaker signal an execution status change carries, if any (the one rule
 * for it; the handler records what this returns): a redriven
 * execution (`redriveCount` ≥ 1) that succeeded is a recovery; one that failed
 * again with a status its policy redrives is a relapse, whatever Autoheal then
 * does about it (defer, redrive, give up, skip for its error). A `SUCCEEDED`
 * event stays `ignore`d as an action; this only reads it.
 *
 * Only Step Functions' own events are signals: a failure the sweeper found or the brake keeper re-sent
 * was counted when its own event came, or is too old to say anything about the
 * downstream now. No signal either for a Distributed Map child, for a failure
 * Autoheal knows nothing current about (stopped before live healing, past the
 * redrive window, gone), or for an outcome older than the breaker's window,
 * `windowMs`.
 *
 * @param change the (confirmed) facts
 * @param decision what {@link decideRedrive} decided on them
 * @param now epoch milliseconds
 * @param windowMs the breaker's sliding window
 * @example
 * ```ts
 * breakerSignalOf(change, decideRedrive(change, policy, now, liveSince), now, 10 * 60_000);
 * // 'relapse' for a FAILED event with redriveCount 1 that stopped a minute ago
 * ```
 */
export function breakerSignalOf(
  change: ExecutionStatusChange,
  decision: RedriveDecision,
  now: number,
  windowMs: number,
): BreakerSignal | undefined {
  if (change.source !== SFN_EVENT.source || change.isMapRunChild) return undefined;
  if (change.redriveCount === undefined || change.redriveCount < 1) return undefined;
  const outcomeAt = change.stopDate ?? change.eventTime;
  if (outcomeAt === undefined || now - outcomeAt > windowMs) return undefined;
  if (change.status === 'SUCCEEDED') return 'recovery';
  if (decision.action === 'ignore' || decision.action === 'describe') return undefined;
  if (decision.action === 'skip' && NO_NEWS.has(decision.reason)) return undefined;
  return 'relapse';
}
