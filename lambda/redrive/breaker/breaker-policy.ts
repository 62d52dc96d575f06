/**
 * The storm brake's decisions, pure (no I/O, no clock): a circuit breaker per
 * state machine over the outcomes of Autoheal's own redrives.
 *
 * - A *relapse* is a redriven execution that failed again, a *recovery* one
 *   that succeeded. Both are counted in a sliding window of
 *   {@link WINDOW_SLOTS} buckets (a tenth of the window each), so the breaker
 *   item stays small however many signals arrive.
 * - **closed → open** when the window holds at least `minRelapses` relapses
 *   that make up at least `relapseRatio` of the settled redrives.
 * - **open → half-open** once the cool-down is over; the cool-down grows by
 *   `cooldownFactor` on each re-open, capped at `maxCooldownMinutes`.
 * - **half-open**: a relapse opens it again, a recovery closes it. The window
 *   is emptied on every transition, so in half-open it counts only what
 *   settled since the probes went out.
 * - A forced state (operator) wins over all of it until it is released.
 */
import type { BreakerOptions } from '../../shared/config/breaker-config';
import type { Notice } from '../../shared/notices';

export type { BreakerOptions } from '../../shared/config/breaker-config';
export { DEFAULT_BREAKER_OPTIONS } from '../../shared/config/breaker-config';

export type BreakerState = 'closed' | 'open' | 'half-open';
export type ForcedState = 'open' | 'closed';
export type SignalKind = 'relapse' | 'recovery';

/** One bucket of the sliding window: the signals counted from `start` for a tenth of the window. */
export interface WindowBucket {
  /** Epoch milliseconds the bucket starts (a multiple of the bucket length). */
  readonly start: number;
  readonly relapses: number;
  readonly recoveries: number;
}

/** A machine's breaker as stored (see `breaker-store.ts`); a machine never seen reads as closed, version 0. */
export interface BreakerView {
  /** The computed state (a forced state is kept apart, in `forced`). */
  readonly state: BreakerState;
  /** The operator's forced state; wins over `state` until released. */
  readonly forced?: ForcedState;
  /** Who forced it, when and why (see `breaker-control.ts`). */
  readonly forcedBy?: string;
  readonly forcedAt?: number;
  readonly forcedReason?: string;
  /** Openings in the current episode: the cool-down grows with it. */
  readonly openings: number;
  /** Epoch milliseconds of the last transition to open, half-open, closed. */
  readonly openedAt?: number;
  readonly halfOpenAt?: number;
  readonly closedAt?: number;
  /** Incremented by every transition and force: the condition of the next write. */
  readonly version: number;
  /** Relapses and recoveries in the window at the time the view was read. */
  readonly relapses: number;
  readonly recoveries: number;
  /** Relapses per error name since the window was last empty or the breaker last changed state (at most a few names). */
  readonly topErrors: Readonly<Record<string, number>>;
  /** The window's buckets, when the view was read from the store: lets the counts be recomputed at a later `now`. */
  readonly buckets?: readonly WindowBucket[];
}

/** A machine never seen: closed, nothing counted. */
export const NEW_BREAKER: BreakerView = Object.freeze({
  state: 'closed',
  openings: 0,
  version: 0,
  relapses: 0,
  recoveries: 0,
  topErrors: Object.freeze({}),
});

/** Buckets of the sliding window: the window slides by a tenth of its length. */
export const WINDOW_SLOTS = 10;

const MINUTE_MS = 60_000;

/** Length of one window bucket in milliseconds. */
export function bucketLengthMs(windowMinutes: number): number {
  return Math.max(1000, Math.floor((windowMinutes * MINUTE_MS) / WINDOW_SLOTS));
}

/** Where a signal at `now` is counted: the ring slot (0..{@link WINDOW_SLOTS}-1) and the bucket's start. */
export function bucketOf(now: number, windowMinutes: number): { slot: number; start: number } {
  const length = bucketLengthMs(windowMinutes);
  const index = Math.floor(now / length);
  return { slot: index % WINDOW_SLOTS, start: index * length };
}

/**
 * Relapses and recoveries in the window ending at `now`: the buckets whose
 * start lies in the last {@link WINDOW_SLOTS} bucket lengths (so the window is
 * exact to a tenth of its length). Buckets from the future (clock skew between
 * environments) count as current.
 *
 * @example
 * ```ts
 * windowCounts([{ start: now - 60_000, relapses: 3, recoveries: 1 }], 10, now); // { relapses: 3, recoveries: 1 }
 * ```
 */
export function windowCounts(
  buckets: readonly WindowBucket[],
  windowMinutes: number,
  now: number,
): { relapses: number; recoveries: number } {
  const { start: current } = bucketOf(now, windowMinutes);
  const oldest = current - (WINDOW_SLOTS - 1) * bucketLengthMs(windowMinutes);
  let relapses = 0;
  let recoveries = 0;
  for (const bucket of buckets) {
    if (bucket.start < oldest) continue;
    relapses += bucket.relapses;
    recoveries += bucket.recoveries;
  }
  return { relapses, recoveries };
}

/** The view's counts at `now` (recomputed from its buckets when it has them). */
export function countsAt(
  view: BreakerView,
  options: BreakerOptions,
  now: number,
): { relapses: number; recoveries: number } {
  if (!view.buckets) return { relapses: view.relapses, recoveries: view.recoveries };
  return windowCounts(view.buckets, options.windowMinutes, now);
}

/**
 * The cool-down after the `openings`-th opening of an episode, in milliseconds:
 * `cooldownMinutes × cooldownFactor^(openings-1)`, at most `maxCooldownMinutes`.
 */
export function cooldownMs(openings: number, options: BreakerOptions): number {
  const grown = options.cooldownMinutes * options.cooldownFactor ** Math.max(0, openings - 1);
  return Math.min(grown, options.maxCooldownMinutes) * MINUTE_MS;
}

/**
 * The openings count to store when the breaker opens now: one more than the
 * view's, or 1 when it has been closed for at least `maxCooldownMinutes` (a
 * calm spell as long as the longest cool-down ends the episode).
 */
export function openingsAfter(view: BreakerView, options: BreakerOptions, now: number): number {
  const calm =
    view.state === 'closed' &&
    view.closedAt !== undefined &&
    now - view.closedAt >= options.maxCooldownMinutes * MINUTE_MS;
  return calm ? 1 : view.openings + 1;
}

/** What the breaker says at `now`. */
export interface BreakerVerdict {
  /** The effective state: the forced one if any, else the computed one. Redrive only when `closed`. */
  readonly state: BreakerState;
  /**
   * The transition to make by conditional write (`BreakerStore.transition`),
   * if any. `half-open` is the keeper's to make (it sends the probes); the
   * redrive handler makes `open` and `closed`.
   */
  readonly transition?: BreakerState;
  /** Why, in a few words (logged with the decision). */
  readonly reason: string;
  readonly relapses: number;
  readonly recoveries: number;
  /** When the current cool-down ends (open or half-open). */
  readonly cooldownEndsAt?: number;
}

/**
 * Evaluates a machine's breaker at `now`.
 *
 * @example
 * ```ts
 * const verdict = evaluateBreaker(view, options, Date.now());
 * if (verdict.transition === 'open' && (await store.transition(arn, view, 'open', now))) notify(...);
 * if (verdict.state !== 'closed') hold(failure);
 * ```
 */
export function evaluateBreaker(
  view: BreakerView,
  options: BreakerOptions,
  now: number,
): BreakerVerdict {
  const { relapses, recoveries } = countsAt(view, options, now);
  const counts = { relapses, recoveries };
  if (view.forced) {
    return { state: view.forced, reason: `forced ${view.forced}`, ...counts };
  }
  if (!options.enabled) {
    return view.state === 'closed'
      ? { state: 'closed', reason: 'breaker disabled', ...counts }
      : { state: 'closed', transition: 'closed', reason: 'breaker disabled', ...counts };
  }
  switch (view.state) {
    case 'closed': {
      if (shouldOpen(relapses, recoveries, options)) {
        return {
          state: 'closed',
          transition: 'open',
          reason: `${relapses} of ${relapses + recoveries} settled redrives relapsed in ${options.windowMinutes} min`,
          ...counts,
        };
      }
      return { state: 'closed', reason: 'below the thresholds', ...counts };
    }
    case 'open': {
      const cooldownEndsAt = (view.openedAt ?? now) + cooldownMs(view.openings, options);
      if (now >= cooldownEndsAt) {
        return {
          state: 'open',
          transition: 'half-open',
          reason: 'cool-down over',
          cooldownEndsAt,
          ...counts,
        };
      }
      return { state: 'open', reason: 'cooling down', cooldownEndsAt, ...counts };
    }
    case 'half-open': {
      if (relapses > 0) {
        return { state: 'half-open', transition: 'open', reason: 'a probe relapsed', ...counts };
      }
      if (recoveries > 0) {
        return { state: 'half-open', transition: 'closed', reason: 'a probe recovered', ...counts };
      }
      const cooldownEndsAt = (view.halfOpenAt ?? now) + cooldownMs(view.openings, options);
      if (now >= cooldownEndsAt) {
        // The probes did not settle within a cool-down (lost, or long-running): probe again.
        return {
          state: 'half-open',
          transition: 'half-open',
          reason: 'probes unsettled after the cool-down',
          cooldownEndsAt,
          ...counts,
        };
      }
      return { state: 'half-open', reason: 'probing', cooldownEndsAt, ...counts };
    }
  }
}

/** The opening rule: enough relapses, and a large enough share of the settled redrives. */
export function shouldOpen(relapses: number, recoveries: number, options: BreakerOptions): boolean {
  const settled = relapses + recoveries;
  return (
    relapses >= options.minRelapses && settled > 0 && relapses / settled >= options.relapseRatio
  );
}

/** The evidence an opened (or closed) notice carries. */
export interface BreakerEvidence {
  readonly relapses: number;
  readonly recoveries: number;
  /** relapses / settled, rounded to 3 decimals (0 when nothing settled). */
  readonly relapseRatio: number;
  readonly windowMinutes: number;
  /** Error names by relapses, most first, at most {@link TOP_ERRORS_IN_EVIDENCE}. */
  readonly topErrors: readonly { readonly name: string; readonly count: number }[];
  readonly openings: number;
  readonly cooldownMinutes: number;
}

/** Error names an evidence lists. */
export const TOP_ERRORS_IN_EVIDENCE = 3;

/** The evidence of a breaker at `now` (use the view the transition was made from). */
export function breakerEvidence(
  view: BreakerView,
  options: BreakerOptions,
  now: number,
  openings: number = view.openings,
): BreakerEvidence {
  const { relapses, recoveries } = countsAt(view, options, now);
  const settled = relapses + recoveries;
  const topErrors = Object.entries(view.topErrors)
    .filter(([, count]) => count > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, TOP_ERRORS_IN_EVIDENCE)
    .map(([name, count]) => ({ name, count }));
  return {
    relapses,
    recoveries,
    relapseRatio: settled === 0 ? 0 : Math.round((relapses / settled) * 1000) / 1000,
    windowMinutes: options.windowMinutes,
    topErrors,
    openings,
    cooldownMinutes: cooldownMs(Math.max(1, openings), options) / MINUTE_MS,
  };
}

/** Notice kinds of the brake. */
export const BREAKER_NOTICE = {
  opened: 'breaker-opened',
  closed: 'breaker-closed',
  heldNearingExpiry: 'held-nearing-expiry',
  heldExpired: 'held-expired',
} as const;

/**
 * The `breaker-opened` notice, with its evidence. `view` is the view the
 * winning transition was made from; `openings` the count the opening stored.
 *
 * @example
 * ```ts
 * if (await store.transition(arn, view, 'open', now, { openings })) await notify(breakerOpenedNotice(arn, view, options, now, openings));
 * ```
 */
export function breakerOpenedNotice(
  stateMachineArn: string,
  view: BreakerView,
  options: BreakerOptions,
  now: number,
  openings: number = openingsAfter(view, options, now),
): Notice {
  const evidence = breakerEvidence(view, options, now, openings);
  const name = stateMachineArn.split(':').at(-1);
  return {
    kind: BREAKER_NOTICE.opened,
    reason: view.state === 'half-open' ? 'probe-relapsed' : 'relapse-storm',
    subject: `Autoheal stopped redriving ${name}: its redrives keep failing`,
    facts: {
      stateMachineArn,
      relapses: evidence.relapses,
      recoveries: evidence.recoveries,
      relapseRatio: evidence.relapseRatio,
      windowMinutes: evidence.windowMinutes,
      topErrors: evidence.topErrors.map((e) => `${e.name} (${e.count})`).join(', '),
      openings: evidence.openings,
      cooldownMinutes: evidence.cooldownMinutes,
      probesAfter: new Date(now + evidence.cooldownMinutes * MINUTE_MS).toISOString(),
    },
  };
}

/** The `breaker-closed` notice: probes recovered (or an operator closed it); the held backlog drains. */
export function breakerClosedNotice(
  stateMachineArn: string,
  view: BreakerView,
  options: BreakerOptions,
  now: number,
  reason = 'probe-recovered',
): Notice {
  const { relapses, recoveries } = countsAt(view, options, now);
  const name = stateMachineArn.split(':').at(-1);
  return {
    kind: BREAKER_NOTICE.closed,
    reason,
    subject: `Autoheal redrives ${name} again: its redrives recover`,
    facts: {
      stateMachineArn,
      relapses,
      recoveries,
      openings: view.openings,
      openedAt: view.openedAt === undefined ? undefined : new Date(view.openedAt).toISOString(),
    },
  };
}

/** The `BreakerState` gauge: 0 closed, 1 half-open, 2 open. */
export function breakerStateGauge(state: BreakerState): number {
  return state === 'closed' ? 0 : state === 'half-open' ? 1 : 2;
}
