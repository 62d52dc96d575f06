/**
 * What `autoheal redrive` prints and writes: the plan grouped by reason, the
 * run's outcome, and the JSON report (every candidate, its decision and its
 * outcome).
 */
import type { Output } from '../output';
import type { CandidateResult, RunOutcome, RunSummary } from './execute';
import type { RedriveRequest } from './options';
import type { Candidate, CandidateReason, RedrivePlan } from './plan';

/** The include flag that redrives a reason, for the hint beside it. */
const INCLUDE_FLAG: Partial<Record<CandidateReason, string>> = {
  'gave-up': '--include-gave-up',
  denied: '--include-denied',
  'before-live-healing': '--include-before-live-healing',
  'held-by-breaker': '--ignore-breaker',
};

/** Reasons in the order a reader wants them: what is redriven first. */
const REASON_ORDER: readonly CandidateReason[] = [
  'eligible',
  'delay-waived',
  'gave-up',
  'denied',
  'before-live-healing',
  'held-by-breaker',
  'already-redriven',
  'in-progress-elsewhere',
  'observe-only',
  'not-redrivable',
  'redrive-window-expired',
  'execution-not-found',
  'not-a-candidate',
];

/** Candidates per reason, in {@link REASON_ORDER}. */
export function countByReason(candidates: readonly Candidate[]): [CandidateReason, number][] {
  const counts = new Map<CandidateReason, number>();
  for (const c of candidates) counts.set(c.reason, (counts.get(c.reason) ?? 0) + 1);
  return REASON_ORDER.filter((r) => counts.has(r)).map((r) => [r, counts.get(r) ?? 0]);
}

function whatHappens(reason: CandidateReason, redriven: boolean): string {
  if (redriven) return 'redrive';
  const flag = INCLUDE_FLAG[reason];
  return flag ? `skip (${flag} to redrive)` : 'skip';
}

/** Prints the plan: a summary line, the table by reason, and what the filters left out. */
export function printPlan(out: Output, plan: RedrivePlan, request: RedriveRequest): void {
  const toRedrive = plan.candidates.filter((c) => c.redrive).length;
  out.line(
    `${plan.candidates.length} failed execution(s) on ${plan.machines.length} state machine(s), stopped ${new Date(request.since).toISOString()} to ${new Date(request.until).toISOString()}`,
  );
  const rows = countByReason(plan.candidates).map(([reason, count]) => {
    const redriven = plan.candidates.some((c) => c.reason === reason && c.redrive);
    const example = plan.candidates.find((c) => c.reason === reason);
    return [reason, count, whatHappens(reason, redriven), example?.detail ?? ''];
  });
  if (rows.length > 0) out.table(['reason', 'executions', 'action', 'for example'], rows);
  const held = plan.machines.filter((m) => m.breaker !== undefined && m.breaker !== 'closed');
  for (const machine of held) {
    out.line(
      out.paint.warn(`breaker of ${machine.name} is ${machine.breaker}: its failures are held`),
    );
  }
  for (const machine of plan.machines.filter((m) => !m.inScope)) {
    out.line(
      out.paint.warn(`${machine.name} is outside the deployed scope (${request.outsideScope})`),
    );
  }
  if (plan.outsideTimeRange > 0) {
    out.line(
      out.paint.dim(`${plan.outsideTimeRange} listed execution(s) stopped outside --since/--until`),
    );
  }
  if (plan.notMatchingError > 0) {
    out.line(
      out.paint.dim(
        `${plan.notMatchingError} execution(s) failed with an error no --error matches`,
      ),
    );
  }
  out.line(
    `${toRedrive} to redrive at ${request.rate} per second (about ${formatSeconds(toRedrive / request.rate)})`,
  );
}

/** Prints the run's outcome by kind. */
export function printRun(
  out: Output,
  results: ReadonlyMap<string, CandidateResult>,
  summary: RunSummary,
): void {
  const counts = new Map<RunOutcome, number>();
  for (const r of results.values()) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  out.table(
    ['outcome', 'executions'],
    [...counts].sort(([a], [b]) => a.localeCompare(b)),
  );
  const line = `redriven ${summary.redriven}, skipped ${summary.skipped}, failed ${summary.failed}${summary.notRun > 0 ? `, not run ${summary.notRun}` : ''} in ${formatSeconds(summary.seconds)}`;
  out.line(summary.failed > 0 ? out.paint.bad(line) : out.paint.ok(line));
  if (summary.interrupted) {
    out.line(
      out.paint.warn(
        'Interrupted: run the same command again to continue (what was redriven is recorded and is not redriven twice)',
      ),
    );
  }
  const failed = [...results].filter(([, r]) => r.outcome === 'failed' || r.outcome === 'refused');
  for (const [arn, r] of failed.slice(0, 5)) out.warn(`${r.outcome}: ${arn}: ${r.detail ?? ''}`);
  if (failed.length > 5) out.warn(`... and ${failed.length - 5} more (see the report)`);
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds * 10) / 10} s`;
  return `${Math.round(seconds / 6) / 10} min`;
}

/** The JSON report: every candidate, the decision and, after a run, the outcome. */
export interface RedriveReport {
  readonly command: 'autoheal redrive';
  readonly generatedAt: string;
  readonly stack: string;
  readonly dryRun: boolean;
  readonly filters: {
    readonly stateMachines: readonly string[];
    readonly outsideScope?: string;
    readonly since: string;
    readonly until: string;
    readonly statuses?: readonly string[];
    readonly errors: readonly string[];
    readonly includeGaveUp: boolean;
    readonly includeDenied: boolean;
    readonly includeBeforeLiveHealing: boolean;
    readonly ignoreBreaker: boolean;
  };
  readonly rate: number;
  readonly machines: readonly {
    readonly name: string;
    readonly arn: string;
    readonly inScope: boolean;
    readonly breaker?: string;
  }[];
  readonly summary: {
    readonly candidates: number;
    readonly toRedrive: number;
    readonly byReason: Readonly<Record<string, number>>;
    readonly outsideTimeRange: number;
    readonly notMatchingError: number;
    readonly calls: Readonly<Record<string, number>>;
    readonly run?: RunSummary;
  };
  readonly candidates: readonly (Omit<Candidate, 'change'> & {
    readonly result?: CandidateResult;
  })[];
}

/** Builds the report. */
export function reportOf(
  request: RedriveRequest,
  plan: RedrivePlan,
  context: { readonly stack: string; readonly now: number },
  run?: { readonly results: ReadonlyMap<string, CandidateResult>; readonly summary: RunSummary },
): RedriveReport {
  return {
    command: 'autoheal redrive',
    generatedAt: new Date(context.now).toISOString(),
    stack: context.stack,
    dryRun: request.dryRun,
    filters: {
      stateMachines: request.machines.map((m) => m.text),
      ...(request.outsideScope === undefined ? {} : { outsideScope: request.outsideScope }),
      since: new Date(request.since).toISOString(),
      until: new Date(request.until).toISOString(),
      ...(request.statuses ? { statuses: request.statuses } : {}),
      errors: request.errors,
      includeGaveUp: request.includeGaveUp,
      includeDenied: request.includeDenied,
      includeBeforeLiveHealing: request.includeBeforeLiveHealing,
      ignoreBreaker: request.ignoreBreaker,
    },
    rate: request.rate,
    machines: plan.machines.map((m) => ({
      name: m.name,
      arn: m.arn,
      inScope: m.inScope,
      ...(m.breaker === undefined ? {} : { breaker: m.breaker }),
    })),
    summary: {
      candidates: plan.candidates.length,
      toRedrive: plan.candidates.filter((c) => c.redrive).length,
      byReason: Object.fromEntries(countByReason(plan.candidates)),
      outsideTimeRange: plan.outsideTimeRange,
      notMatchingError: plan.notMatchingError,
      calls: plan.calls,
      ...(run ? { run: run.summary } : {}),
    },
    candidates: plan.candidates.map(({ change: _change, ...candidate }) => {
      const result = run?.results.get(candidate.executionArn);
      return result ? { ...candidate, result } : candidate;
    }),
  };
}
