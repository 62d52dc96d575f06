/**
 * The sweeper's pure parts: which listed executions to feed into the redrive
 * path, the EventBridge-shaped event it sends for each, and the pacer that
 * keeps its Step Functions list calls inside their quota. No I/O; the clock
 * and the sleep are injected.
 */
import { createHash } from 'node:crypto';
import type { RedrivePolicy } from '../shared/autoheal-config';
import { delayBeforeAttempt } from '../shared/backoff';
import {
  policyFor,
  REDRIVABLE_STATUSES,
  type RedrivableStatus,
  type SweeperHandlerConfig,
} from '../shared/config/redrive-config';
import { REDRIVE_WINDOW_DAYS, SFN_EVENT } from '../shared/contract';
import { STATE_MACHINE_ARN } from '../shared/state-machine-names';
import { failureKey, redriveIdempotencyKey } from './decide';

const HOUR_MS = 60 * 60 * 1000;

/** Time the sweeper keeps for itself before the Lambda deadline, by default. */
export const DEFAULT_DEADLINE_MARGIN_MS = 30_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * How long a failure must have been due before the sweeper enqueues it: the
 * rule's own message may be waiting in a delay hop (at most 15 minutes) or in
 * the queue's backlog. A message from the sweeper always costs a
 * DescribeExecution (quota 10 per second), so the sweeper leaves the in-flight
 * event this long to land; a later sweep catches the failure if it never does.
 */
export const DEFAULT_DUE_GRACE_MS = 15 * 60 * 1000;

/** One execution as ListExecutions returned it, with dates in epoch milliseconds. */
export interface ListedExecution {
  readonly executionArn: string;
  /** The scoped state machine it was listed for (never a version or alias ARN). */
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: number;
  /** Undefined only for executions still running, which the sweeper never lists. */
  readonly stopDate: number | undefined;
  /** 0 when never redriven. */
  readonly redriveCount: number;
  readonly redriveDate: number | undefined;
}

/** The time frame of one sweep. */
export interface SweepWindow {
  /** Epoch milliseconds of the sweep. */
  readonly now: number;
  /** Epoch milliseconds: executions that started before this are not swept. */
  readonly lookbackStart: number;
  /** @default {@link DEFAULT_DUE_GRACE_MS} */
  readonly dueGraceMs?: number;
}

/** What the sweeper does with one listed execution, before it looks at the idempotency table. */
export type SweepVerdict =
  /** Enqueue it, unless the idempotency table holds a record under `idempotencyKey`. */
  | { readonly verdict: 'candidate'; readonly failureKey: string; readonly idempotencyKey: string }
  /** Its redrive delay has not elapsed (plus the grace): the in-flight event handles it. */
  | { readonly verdict: 'not-due'; readonly dueAt: number }
  /**
   * Stopped before the lookback, 14 days ago or more, or in a status the
   * policy does not redrive; or (`beforeLiveHealing`) before its state machine
   * came under live healing, so it is never redriven automatically.
   */
  | {
      readonly verdict: 'out-of-scope';
      readonly detail: string;
      readonly beforeLiveHealing?: true;
    };

/**
 * Epoch milliseconds the lookback of a sweep at `now` starts.
 *
 * @example
 * ```ts
 * lookbackStartOf(Date.parse('2026-03-02T10:00:00Z'), 24); // 2026-03-01T10:00:00Z
 * ```
 */
export function lookbackStartOf(now: number, lookbackHours: number): number {
  return now - lookbackHours * HOUR_MS;
}

export { redriveIdempotencyKey };

/**
 * Decides whether a listed execution is a candidate for the redrive path.
 *
 * @param execution as listed
 * @param policy the effective policy of its state machine
 * @param window the sweep's time frame
 * @param liveSince epoch milliseconds since which its state machine has been
 *   under live healing (`liveSinceOf`), or undefined when it is not
 * @example
 * ```ts
 * const verdict = planSweep(execution, policyFor(config, 'orders'), { now, lookbackStart }, liveSince);
 * if (verdict.verdict === 'candidate') await check(verdict.idempotencyKey);
 * ```
 */
export function planSweep(
  execution: ListedExecution,
  policy: RedrivePolicy,
  window: SweepWindow,
  liveSince: number | undefined,
): SweepVerdict {
  const { stopDate, redriveCount, executionArn, status } = execution;
  if (!(policy.statuses as readonly string[]).includes(status)) {
    return { verdict: 'out-of-scope', detail: `status ${status} is not redriven` };
  }
  if (stopDate === undefined) {
    return { verdict: 'out-of-scope', detail: 'has not stopped' };
  }
  if (stopDate < window.lookbackStart || execution.startDate < window.lookbackStart) {
    return { verdict: 'out-of-scope', detail: 'started or stopped before the lookback' };
  }
  if (window.now - stopDate >= REDRIVE_WINDOW_DAYS * DAY_MS) {
    return {
      verdict: 'out-of-scope',
      detail: `stopped more than ${REDRIVE_WINDOW_DAYS} days ago`,
    };
  }
  // The same rule as the redrive decision (decide.ts); observed failures are never redriven.
  if (!policy.observeOnly && (liveSince === undefined || stopDate < liveSince)) {
    return {
      verdict: 'out-of-scope',
      detail:
        liveSince === undefined
          ? 'its state machine is not under live healing in this deployment'
          : `stopped before live healing of its state machine began (${new Date(liveSince).toISOString()})`,
      beforeLiveHealing: true,
    };
  }
  const key = failureKey(executionArn, redriveCount);
  // The same due time the redrive decision computes (decide.ts), so the two never disagree.
  const dueAt = stopDate + delayBeforeAttempt(policy.delay, redriveCount, key) * 1000;
  if (dueAt + (window.dueGraceMs ?? DEFAULT_DUE_GRACE_MS) > window.now) {
    return { verdict: 'not-due', dueAt };
  }
  return {
    verdict: 'candidate',
    failureKey: key,
    idempotencyKey: redriveIdempotencyKey(key, policy.observeOnly),
  };
}

/**
 * True when a page of ListExecutions (newest start first) has reached
 * executions that started before the lookback: later pages hold only older ones.
 */
export function reachedLookbackStart(
  executions: readonly Pick<ListedExecution, 'startDate'>[],
  lookbackStart: number,
): boolean {
  return executions.some((execution) => execution.startDate < lookbackStart);
}

/** The event the sweeper enqueues: shaped like Step Functions' own, without error and redriveStatus. */
export interface SweptStatusChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': typeof SFN_EVENT.detailType;
  readonly source: typeof SFN_EVENT.sweeperSource;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly executionArn: string;
    readonly stateMachineArn: string;
    readonly name: string;
    readonly status: string;
    readonly startDate: number;
    readonly stopDate: number | null;
    readonly redriveCount: number;
    readonly redriveDate: number | null;
  };
}

/**
 * The event id of a swept failure: `sweep-` and the SHA-256 of its failure
 * key, the same for every sweep that finds the same failure.
 */
export function sweptEventId(key: string): string {
  return `sweep-${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The EventBridge-shaped `Step Functions Execution Status Change` event for a
 * failure the sweeper found. It carries no `redriveStatus` and no `error`
 * (ListExecutions returns neither), so the redrive path describes the
 * execution before it decides. Never any input or output.
 *
 * @param now epoch milliseconds: the event's `time`
 * @example
 * ```ts
 * const body = JSON.stringify(sweptStatusChange(execution, Date.now()));
 * ```
 */
export function sweptStatusChange(execution: ListedExecution, now: number): SweptStatusChangeEvent {
  // arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME
  const [, , , region = '', account = ''] = execution.executionArn.split(':');
  return {
    version: '0',
    id: sweptEventId(failureKey(execution.executionArn, execution.redriveCount)),
    'detail-type': SFN_EVENT.detailType,
    source: SFN_EVENT.sweeperSource,
    account,
    time: new Date(now).toISOString(),
    region,
    resources: [execution.executionArn],
    detail: {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      stopDate: execution.stopDate ?? null,
      redriveCount: execution.redriveCount,
      redriveDate: execution.redriveDate ?? null,
    },
  };
}

/**
 * The order in which one sweep visits the state machines when it has no
 * cursor (the idempotency table could not be read): rotated by one place per
 * sweep, so a sweep cut short by the Lambda deadline does not starve the same
 * machines every time. With a cursor, see `sweepOrder` in `sweep-cursor.ts`.
 */
export function rotate<T>(items: readonly T[], sweepNumber: number): T[] {
  if (items.length === 0) return [];
  const offset = ((sweepNumber % items.length) + items.length) % items.length;
  return [...items.slice(offset), ...items.slice(0, offset)];
}

/** Spaces out calls to at most a given rate. */
export interface Pacer {
  /** Milliseconds until the next call may be made (0 when it may be made now). */
  msUntilNextSlot(): number;
  /** Waits for the next slot and takes it. Calls are expected one at a time. */
  take(): Promise<void>;
}

export interface PacerOptions {
  /** Most calls per second, above 0. */
  readonly requestsPerSecond: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * A client-side pacer: consecutive calls are at least `1000 / requestsPerSecond`
 * ms apart; the first one goes at once.
 *
 * @example
 * ```ts
 * const pacer = createPacer({ requestsPerSecond: 1, now: Date.now, sleep });
 * await pacer.take();
 * await sfn.send(new ListExecutionsCommand(input));
 * ```
 */
export function createPacer(options: PacerOptions): Pacer {
  if (!(options.requestsPerSecond > 0)) {
    throw new RangeError(`requestsPerSecond must be above 0, got ${options.requestsPerSecond}`);
  }
  const intervalMs = 1000 / options.requestsPerSecond;
  let nextSlot = Number.NEGATIVE_INFINITY;
  const msUntilNextSlot = (): number => Math.max(0, nextSlot - options.now());
  return {
    msUntilNextSlot,
    take: async () => {
      const wait = msUntilNextSlot();
      if (wait > 0) await options.sleep(wait);
      nextSlot = options.now() + intervalMs;
    },
  };
}

/**
 * The statuses the sweeper lists for a machine with this policy, in listing
 * order: one ListExecutions call each at least.
 */
export function sweptStatuses(policy: Pick<RedrivePolicy, 'statuses'>): RedrivableStatus[] {
  return REDRIVABLE_STATUSES.filter((s) => policy.statuses.includes(s));
}

/** What covering the whole scope once (a pass) costs the sweeper, estimated at synth. */
export interface SweepCoverage {
  /** State machines counted: those listed by ARN, plus `machinesByPrefix`. */
  readonly machines: number;
  /** ListExecutions calls of a pass, one per machine and swept status (more with many failures). */
  readonly callsPerPass: number;
  /** List calls one sweep makes at most: its time before the deadline margin at `requestsPerSecond`. */
  readonly callsPerSweep: number;
  /** ListStateMachines pages each sweep spends before it lists executions (name prefixes only). */
  readonly listStateMachinesPerSweep: number;
  /** Sweeps a pass spans. */
  readonly sweepsPerPass: number;
  /** Minutes between two sweeps of the same machine, at most: sweeps per pass × period. */
  readonly passMinutes: number;
  /** Minutes of the lookback. */
  readonly lookbackMinutes: number;
  /** Every machine is swept at least once per lookback. */
  readonly covered: boolean;
}

/** How the sweeper runs, for {@link sweepCoverage}. */
export interface SweepCoverageOptions {
  /** The sweeper function's timeout. */
  readonly timeoutMs: number;
  /** @default {@link DEFAULT_DEADLINE_MARGIN_MS} */
  readonly deadlineMarginMs?: number;
  /**
   * State machines the name prefixes match (unknown at synth).
   * @default 0
   */
  readonly machinesByPrefix?: number;
  /**
   * ListStateMachines pages a sweep reads when the scope has name prefixes
   * (1,000 state machines of the account and region a page).
   * @default 1
   */
  readonly listStateMachinesPages?: number;
}

/**
 * Whether the sweeper, paced at `sweeper.requestsPerSecond` and cut at its
 * deadline, sweeps every scoped machine at least once per `lookbackHours`.
 * The call count is the sweeper's own: one ListExecutions page per machine and
 * status it redrives ({@link sweptStatuses} of its effective policy), plus the
 * ListStateMachines pages of each sweep when the scope has name prefixes.
 *
 * @example
 * ```ts
 * const coverage = sweepCoverage(config, { timeoutMs: 300_000 });
 * if (!coverage.covered) warn(`a pass takes ${coverage.passMinutes} min`);
 * ```
 */
export function sweepCoverage(
  config: SweeperHandlerConfig,
  options: SweepCoverageOptions,
): SweepCoverage {
  const { sweeper } = config;
  const statusesOf = (name: string) => sweptStatuses(policyFor(config, name)).length;
  const byArn = config.stateMachineArns.reduce(
    (calls, arn) => calls + statusesOf(STATE_MACHINE_ARN.exec(arn)?.[1] ?? ''),
    0,
  );
  const machinesByPrefix = options.machinesByPrefix ?? 0;
  const callsPerPass = byArn + machinesByPrefix * sweptStatuses(config).length;
  const listStateMachinesPerSweep =
    config.stateMachineNamePrefixes.length > 0 ? (options.listStateMachinesPages ?? 1) : 0;
  const listingMs = options.timeoutMs - (options.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS);
  // The pacer's first call goes at once, the others 1 / requestsPerSecond apart.
  const callsPerSweep = Math.floor((listingMs / 1000) * sweeper.requestsPerSecond) + 1;
  const executionCallsPerSweep = Math.max(1, callsPerSweep - listStateMachinesPerSweep);
  const sweepsPerPass = Math.max(1, Math.ceil(callsPerPass / executionCallsPerSweep));
  const passMinutes = sweepsPerPass * sweeper.periodMinutes;
  const lookbackMinutes = sweeper.lookbackHours * 60;
  return {
    machines: config.stateMachineArns.length + machinesByPrefix,
    callsPerPass,
    callsPerSweep,
    listStateMachinesPerSweep,
    sweepsPerPass,
    passMinutes,
    lookbackMinutes,
    covered: passMinutes <= lookbackMinutes,
  };
}
