/**
 * Runs a bulk redrive plan: each candidate through the redrive path's own
 * idempotent failure action (lambda/redrive/failure-action.ts), so the CLI,
 * the sweeper's messages and an arriving event share one idempotency record
 * and one RedriveExecution client token per failure, and never redrive it
 * twice, even at the same moment: the first to put the record acts, the other
 * gets `IdempotencyAlreadyInProgressError` (reported as in progress
 * elsewhere) or, once it is done, the stored outcome (already redriven).
 *
 * ## The manual key
 *
 * A failure the automatic path gave up on (max-redrives), denied (its error)
 * or skipped (before live healing) has a record under its key that says so;
 * acting under that key again would only replay it. When the operator includes
 * such failures, the CLI first acts under the automatic key (so a failure
 * nobody has recorded yet is redriven under it, and an event arriving later
 * replays "redriven"), and only when that replays a gave-up or skipped record
 * acts again under `FAILURE_KEY#manual`. Why this never doubles:
 * - the automatic path holds a non-redrive record for the failure, so it will
 *   not redrive it (its own key is taken for the record's 15 days, longer than
 *   the 14-day redrive window);
 * - every manual run uses the same manual key, so two runs (or a re-run after
 *   Ctrl-C) redrive it once;
 * - the client token stays the automatic one (`clientTokenFor(failureKey)`),
 *   so even a redrive under the automatic key made at the same moment (after a
 *   config change) is answered idempotently by Step Functions itself.
 *
 * ## Resuming
 *
 * Ctrl-C stops starting items; the ones in flight finish and are recorded.
 * Running the same command again plans afresh: every failure this run
 * redrove has a completed record (planned as already-redriven, and even if it
 * were not, acting again replays the record), and a redriven execution is
 * running again, so ListExecutions no longer lists it as failed.
 */
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  createFailureAction,
  type FailureOutcome,
  failureActionFor,
} from '../../lambda/redrive/failure-action';
import { autohealIdempotencyConfig } from '../../lambda/shared/idempotency';
import type { NoticeSender } from '../../lambda/shared/notice-digest';
import type { Progress } from '../output';
import { type Candidate, type CandidateReason, manualIdempotencyKey } from './plan';
import { createRateSchedule } from './rate';

/** What happened to one candidate the run redrives. */
export type RunOutcome =
  /** This run redrove it. */
  | 'redriven'
  /** A record says it was redriven already (another path, or an earlier run). */
  | 'already-redriven'
  /** Another path holds its record right now: it is acting on it. */
  | 'in-progress-elsewhere'
  /** Its record says the automatic path handled it otherwise (e.g. after a config change). */
  | 'already-handled'
  /** RedriveExecution refused it (not redrivable any more). */
  | 'refused'
  /** An error: nothing recorded, running again retries it. */
  | 'failed'
  /** Not started: the run was interrupted first. */
  | 'not-run';

/** The result of one candidate. */
export interface CandidateResult {
  readonly outcome: RunOutcome;
  /** The idempotency key the outcome is recorded under: the automatic path's, or the manual one. */
  readonly key?: 'automatic' | 'manual';
  readonly redriveDate?: string;
  readonly detail?: string;
}

/** The run's totals. */
export interface RunSummary {
  readonly redriven: number;
  readonly skipped: number;
  readonly failed: number;
  readonly notRun: number;
  readonly interrupted: boolean;
  /** Wall-clock seconds from the first redrive slot to the last result. */
  readonly seconds: number;
}

/** What a run needs. */
export interface RunDeps {
  readonly sfn: SFNClient;
  /** A persistence layer on the idempotency table, for the failure action alone. */
  readonly persistenceStore: BasePersistenceLayer;
  readonly idempotencyKeyPrefix: string;
  /** Redrives per second. */
  readonly rate: number;
  /** Epoch ms. */
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** True once the operator pressed Ctrl-C. */
  readonly interrupted: () => boolean;
  readonly progress?: Progress;
  /** Called for each notice the failure action raises (a refused redrive). */
  readonly onNotice?: (subject: string) => void;
}

/** Failures the automatic path decided not to redrive, which the operator may include. */
const MANUAL_REASONS: ReadonlySet<CandidateReason> = new Set([
  'gave-up',
  'denied',
  'before-live-healing',
]);

/** How long one item may wait out RedriveExecution throttling. */
const ACTION_DEADLINE_MS = 30_000;
/** How long another path treats an item's in-progress record as taken (more than two actions' time). */
const IN_PROGRESS_LEASE_MS = 60_000;

/**
 * Most items in flight: enough to hold `rate` at up to 333 ms an item (a
 * record write, the RedriveExecution call, a record update), at most 100
 * (more only queues up on the client's sockets and the table).
 */
export function concurrencyFor(rate: number): number {
  return Math.min(100, Math.max(8, Math.ceil(rate / 3)));
}

/**
 * Redrives the candidates marked `redrive`, at `rate` a second, until done or
 * interrupted. Never throws for one candidate: its error is its result.
 *
 * @example
 * ```ts
 * const { results, summary } = await runRedrive(plan.candidates, { sfn, persistenceStore, idempotencyKeyPrefix, rate: 50, now: Date.now, interrupted });
 * ```
 */
export async function runRedrive(
  candidates: readonly Candidate[],
  deps: RunDeps,
): Promise<{ results: Map<string, CandidateResult>; summary: RunSummary }> {
  // The CLI has no topic client: a refusal's notice goes to the operator's terminal and the report.
  const notices: NoticeSender = {
    send: async (notice) => {
      deps.onNotice?.(notice.subject);
      return 'sent';
    },
    flushDueDigests: async () => 0,
  };
  const idempotencyConfig = autohealIdempotencyConfig('idempotencyKey');
  // As a Lambda registers its context: the in-progress record of an item lapses this long after
  // it was taken, so a CLI killed mid-item (kill -9, a closed laptop) blocks that failure for a
  // minute, not for the record's 15 days. An item takes at most ACTION_DEADLINE_MS.
  idempotencyConfig.registerLambdaContext({
    getRemainingTimeInMillis: () => IN_PROGRESS_LEASE_MS,
  } as Parameters<typeof idempotencyConfig.registerLambdaContext>[0]);
  const actOnce = createFailureAction({
    idempotencyConfig,
    sfnFor: () => deps.sfn,
    notices,
    persistenceStore: deps.persistenceStore,
    idempotencyKeyPrefix: deps.idempotencyKeyPrefix,
    now: deps.now,
  });

  const act = async (candidate: Candidate): Promise<CandidateResult> => {
    const change = candidate.change;
    if (!change) return { outcome: 'failed', detail: 'no confirmed facts (not described)' };
    const automatic = {
      ...failureActionFor(
        change,
        { action: 'redrive', attempt: (change.redriveCount ?? 0) + 1 },
        false,
      ),
      reason: `manual:${candidate.reason}`,
      detail: 'autoheal redrive (operator CLI)',
    };
    const deadline = deps.now() + ACTION_DEADLINE_MS;
    const first = await actOnce(automatic, deadline);
    if (!first.replayed) return resultOf(first, 'automatic');
    if (first.outcome === 'redriven') {
      return { outcome: 'already-redriven', key: 'automatic', redriveDate: first.redriveDate };
    }
    if (!MANUAL_REASONS.has(candidate.reason) || first.outcome === 'observed') {
      return {
        outcome: 'already-handled',
        key: 'automatic',
        detail: `recorded ${first.outcome}${first.reason ? `: ${first.reason}` : ''}`,
      };
    }
    const manual = await actOnce(
      { ...automatic, idempotencyKey: manualIdempotencyKey(automatic.failureKey) },
      deadline,
    );
    if (manual.replayed) {
      return manual.outcome === 'redriven'
        ? { outcome: 'already-redriven', key: 'manual', redriveDate: manual.redriveDate }
        : { outcome: 'already-handled', key: 'manual', detail: `recorded ${manual.outcome}` };
    }
    return resultOf(manual, 'manual');
  };

  const results = new Map<string, CandidateResult>();
  const toRedrive = candidates.filter((c) => c.redrive);
  const counts = { redriven: 0, skipped: 0, failed: 0 };
  const schedule = createRateSchedule({ perSecond: deps.rate, now: deps.now, sleep: deps.sleep });
  const limit = concurrencyFor(deps.rate);
  const inFlight = new Set<Promise<void>>();
  const startedAt = deps.now();
  let interrupted = false;

  const handle = async (candidate: Candidate): Promise<void> => {
    let result: CandidateResult;
    try {
      result = await act(candidate);
    } catch (error) {
      const name = (error as Error).name;
      result =
        name === 'IdempotencyAlreadyInProgressError'
          ? { outcome: 'in-progress-elsewhere', detail: 'another path is acting on it right now' }
          : { outcome: 'failed', detail: `${name}: ${(error as Error).message}`.slice(0, 300) };
    }
    results.set(candidate.executionArn, result);
    if (result.outcome === 'redriven') counts.redriven++;
    else if (result.outcome === 'failed' || result.outcome === 'refused') counts.failed++;
    else counts.skipped++;
    deps.progress?.tick({ ...counts });
  };

  for (const candidate of toRedrive) {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    if (deps.interrupted()) {
      interrupted = true;
      break;
    }
    await schedule.take();
    const running: Promise<void> = handle(candidate).finally(() => inFlight.delete(running));
    inFlight.add(running);
  }
  await Promise.all(inFlight);
  deps.progress?.stop();
  let notRun = 0;
  for (const candidate of toRedrive) {
    if (!results.has(candidate.executionArn)) {
      results.set(candidate.executionArn, { outcome: 'not-run' });
      notRun++;
    }
  }
  return {
    results,
    summary: {
      ...counts,
      notRun,
      interrupted,
      seconds: (deps.now() - startedAt) / 1000,
    },
  };
}

function resultOf(outcome: FailureOutcome, key: 'automatic' | 'manual'): CandidateResult {
  if (outcome.outcome === 'redriven') {
    return { outcome: 'redriven', key, redriveDate: outcome.redriveDate };
  }
  return { outcome: 'refused', key, detail: outcome.reason };
}
