/**
 * The plan of a bulk redrive: which failed executions the filters pick, and
 * what to do about each, decided by the runtime's own pure rule
 * (`decideRedrive`) on the execution as DescribeExecution reports it, with the
 * manual run's differences spelled out in {@link reasonOf}. Reads only:
 * planning writes nothing anywhere (`--dry-run` stops after it).
 *
 * Calls, in order, each paced under its quota: ListStateMachines (only for
 * names and prefixes), ListExecutions per machine and status (the SDK
 * paginator, 1,000 a page, at the sweeper's pace), the idempotency records of
 * the listed failures (GetItem: a failure already redriven costs no describe),
 * the breaker of each machine whose breaker is on, DescribeExecution for the
 * rest (ListExecutions returns neither the error nor the redrive status).
 */
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import {
  type ExecutionListItem,
  paginateListExecutions,
  paginateListStateMachines,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { describeBreaker } from '../../lambda/redrive/breaker/breaker-control';
import type { BreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import { decideRedrive, failureKey, type RedriveDecision } from '../../lambda/redrive/decide';
import { describeStatusChange } from '../../lambda/redrive/execution-api';
import type { FailureOutcome } from '../../lambda/redrive/failure-action';
import type { ExecutionStatusChange } from '../../lambda/redrive/failure-event';
import { documentForConfig, liveSinceOf } from '../../lambda/redrive/live-healing';
import {
  type RedriveRecordReader,
  redriveRecordReader,
} from '../../lambda/redrive/redrive-records';
import { createPacer, sweptStatuses } from '../../lambda/redrive/sweep-plan';
import { mapWithConcurrency } from '../../lambda/shared/concurrency';
import { breakerOptionsFor } from '../../lambda/shared/config/breaker-config';
import {
  isStateMachineInScope,
  policyFor,
  type RedrivableStatus,
  type RedrivePolicy,
  scopeIndexOf,
} from '../../lambda/shared/config/redrive-config';
import { REDRIVE_WINDOW_DAYS } from '../../lambda/shared/contract';
import { firstMatchingEntry } from '../../lambda/shared/error-names';
import { parseStateMachineArn } from '../../lambda/shared/state-machine-names';
import { CliError } from '../cli-error';
import type { RedriveDeployment } from '../deployment';
import { DAY_MS, type MachineSelector, type RedriveRequest } from './options';
import { createRateSchedule } from './rate';

/**
 * Why a candidate is (or is not) redriven. The first two are redriven; the
 * next three only when the operator includes them; the rest never.
 */
export type CandidateReason =
  /** `decideRedrive` says redrive. */
  | 'eligible'
  /** `decideRedrive` says wait for the redrive delay: a manual run after an outage does not wait. */
  | 'delay-waived'
  /** Redriven `maxRedrives` times: only with `--include-gave-up`. */
  | 'gave-up'
  /** Its error is on the deny list, or on no allow list: only with `--include-denied`. */
  | 'denied'
  /** Stopped before its machine came under live healing: only with `--include-before-live-healing`. */
  | 'before-live-healing'
  /** Autoheal's idempotency record says it was redriven (by the handler, the sweeper's message or an earlier run). */
  | 'already-redriven'
  /** Another path holds its idempotency record right now. */
  | 'in-progress-elsewhere'
  /** Its machine's breaker is open or half-open (`--ignore-breaker` overrides). */
  | 'held-by-breaker'
  /** Its machine is observed only: Autoheal never redrives it. */
  | 'observe-only'
  /** Step Functions says it cannot be redriven. */
  | 'not-redrivable'
  /** Stopped 14 days ago or more. */
  | 'redrive-window-expired'
  /** DescribeExecution says it no longer exists. */
  | 'execution-not-found'
  /** Running again, succeeded, a Map Run child, or a status its policy does not redrive. */
  | 'not-a-candidate';

/** The reasons that are redriven with the include flags given. */
export function redrivenReasons(request: RedriveRequest): ReadonlySet<CandidateReason> {
  const reasons = new Set<CandidateReason>(['eligible', 'delay-waived']);
  if (request.includeGaveUp) reasons.add('gave-up');
  if (request.includeDenied) reasons.add('denied');
  if (request.includeBeforeLiveHealing) reasons.add('before-live-healing');
  return reasons;
}

/** One failed execution the filters picked, and the plan for it. */
export interface Candidate {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachine: string;
  readonly status: string;
  /** ISO time it stopped. */
  readonly stopDate: string;
  readonly redriveCount: number;
  /** From DescribeExecution; undefined when it was not described. */
  readonly error?: string;
  readonly reason: CandidateReason;
  readonly detail: string;
  /** True when the run redrives it (its reason is one the flags include). */
  readonly redrive: boolean;
  /** What Autoheal recorded for the failure before this run, if anything. */
  readonly recorded?: string;
  /** The confirmed facts the action is built from (not in the report). */
  readonly change?: ExecutionStatusChange;
}

/** A state machine the run covers. */
export interface PlannedMachine {
  readonly arn: string;
  readonly name: string;
  readonly inScope: boolean;
  readonly policy: RedrivePolicy;
  /** The breaker's effective state, when the machine has one on. */
  readonly breaker?: string;
}

/** The plan: the machines, the candidates, and what the filters left out. */
export interface RedrivePlan {
  readonly machines: readonly PlannedMachine[];
  readonly candidates: readonly Candidate[];
  /** Executions listed that stopped outside `--since`/`--until`. */
  readonly outsideTimeRange: number;
  /** Executions described whose error matches no `--error` glob. */
  readonly notMatchingError: number;
  /** List and describe calls made. */
  readonly calls: Readonly<Record<string, number>>;
}

/** What planning reads from. */
export interface PlanDeps {
  readonly sfn: SFNClient;
  readonly redrive: RedriveDeployment;
  /** The installation's idempotency key prefix. */
  readonly idempotencyKeyPrefix: string;
  /** A persistence layer on the idempotency table, used for reads only (configured here). */
  readonly persistenceStore: BasePersistenceLayer;
  /** The healing state table's breaker store, when the deployment has one. */
  readonly breakerStore?: BreakerStore;
  /** Epoch ms. */
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Reports progress of the slow phases (describing). */
  readonly onPhase?: (phase: string, done: number, total: number) => void;
}

/** The manual idempotency key of a failure (see execute.ts for why it cannot double). */
export function manualIdempotencyKey(key: string): string {
  return `${key}#manual`;
}

/** Idempotency records read at once (GetItem has no quota worth pacing: on-demand tables scale). */
const RECORD_READS_AT_ONCE = 25;
const PAGE_SIZE = 1000;
const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** The outcome stored in a record, or the record's status when it has none yet. */
async function readRecord(
  read: RedriveRecordReader,
  idempotencyKey: string,
): Promise<FailureOutcome | 'in-progress' | undefined> {
  const record = await read(idempotencyKey);
  if (!record || record.isExpired()) return undefined;
  if (record.getStatus() === 'INPROGRESS') return 'in-progress';
  return record.getResponse() as unknown as FailureOutcome;
}

/**
 * The candidate reason of a decision, for a manual run: the same rule as the
 * handler's, except that a deferral is waived (the operator wants it now).
 */
export function reasonOf(decision: RedriveDecision): { reason: CandidateReason; detail: string } {
  switch (decision.action) {
    case 'redrive':
      return { reason: 'eligible', detail: `attempt ${decision.attempt}` };
    case 'defer':
      return {
        reason: 'delay-waived',
        detail: `due at ${new Date(decision.dueAt).toISOString()}; a manual run does not wait`,
      };
    case 'give-up':
      return { reason: 'gave-up', detail: decision.detail };
    case 'ignore':
      return { reason: 'not-a-candidate', detail: `${decision.reason}: ${decision.detail}` };
    case 'describe':
      return {
        reason: 'not-a-candidate',
        detail: 'DescribeExecution did not return the redrive fields yet; run again',
      };
    case 'skip':
      switch (decision.reason) {
        case 'error-denied':
        case 'error-not-allowed':
          return { reason: 'denied', detail: decision.detail };
        case 'before-live-healing':
        case 'not-redrivable':
        case 'redrive-window-expired':
        case 'execution-not-found':
          return { reason: decision.reason, detail: decision.detail };
      }
  }
  return { reason: 'not-a-candidate', detail: 'unknown decision' };
}

/**
 * Plans a bulk redrive. Throws a {@link CliError} before any listing when a
 * selected machine is outside the deployed scope without `--outside-scope`,
 * or a selector matches nothing.
 *
 * @example
 * ```ts
 * const plan = await planRedrive(request, { sfn, redrive, idempotencyKeyPrefix, persistenceStore, now: Date.now });
 * ```
 */
export async function planRedrive(request: RedriveRequest, deps: PlanDeps): Promise<RedrivePlan> {
  const { sfn, redrive } = deps;
  const { config, statesArnPrefix } = redrive;
  const sleep = deps.sleep ?? defaultSleep;
  const calls: Record<string, number> = {
    ListStateMachines: 0,
    ListExecutions: 0,
    GetItem: 0,
    DescribeExecution: 0,
  };
  // The sweeper's pacer: list calls one at a time, at most listRate a second.
  const listPacer = createPacer({ requestsPerSecond: request.listRate, now: deps.now, sleep });
  const liveSinceDocument = documentForConfig(redrive.liveSince, config);

  // The handler's own record lookup (the sweeper's and explain's too).
  const readRecordOf = redriveRecordReader(deps.persistenceStore, deps.idempotencyKeyPrefix);

  const machines = await selectMachines(request, deps, listPacer, calls);

  const candidates: Candidate[] = [];
  let outsideTimeRange = 0;
  let notMatchingError = 0;
  const now = deps.now();
  const windowStart = now - REDRIVE_WINDOW_DAYS * DAY_MS;

  /** Candidates still to decide on, with the record the redrive path holds (if any). */
  const undecided: { item: ListedFailure; machine: PlannedMachine; recorded?: string }[] = [];

  for (const machine of machines) {
    const statuses = request.statuses ?? sweptStatuses(machine.policy);
    for (const status of statuses) {
      await listPacer.take();
      for await (const page of paginateListExecutions(
        { client: sfn, pageSize: PAGE_SIZE },
        { stateMachineArn: machine.arn, statusFilter: status },
      )) {
        calls.ListExecutions++;
        for (const item of page.executions ?? []) {
          const listed = listedFailure(item, machine);
          if (!listed) continue;
          if (listed.stopDate < request.since || listed.stopDate >= request.until) {
            outsideTimeRange++;
            continue;
          }
          if (listed.stopDate <= windowStart) {
            candidates.push(
              candidateOf(
                listed,
                'redrive-window-expired',
                `stopped more than ${REDRIVE_WINDOW_DAYS} days ago`,
                false,
              ),
            );
            continue;
          }
          undecided.push({ item: listed, machine });
        }
        // The next page's call waits for its slot; the last page needs none.
        if (page.nextToken) await listPacer.take();
      }
    }
  }

  // The records first: a failure already redriven needs no describe.
  const redrivenSet = redrivenReasons(request);
  const recordKeyOf = (entry: (typeof undecided)[number]) =>
    failureKey(entry.item.executionArn, entry.item.redriveCount);
  const toDescribe: typeof undecided = [];
  await mapWithConcurrency(undecided, RECORD_READS_AT_ONCE, async (entry) => {
    const { item, machine } = entry;
    if (machine.policy.observeOnly) {
      candidates.push(
        candidateOf(
          item,
          'observe-only',
          'its state machine is observed only; Autoheal never redrives it',
          false,
        ),
      );
      return;
    }
    const key = recordKeyOf(entry);
    calls.GetItem++;
    const record = await readRecord(readRecordOf, key);
    if (record === 'in-progress') {
      candidates.push(
        candidateOf(
          item,
          'in-progress-elsewhere',
          'the redrive path is acting on it right now',
          false,
          'in progress',
        ),
      );
      return;
    }
    if (record?.outcome === 'redriven') {
      candidates.push(
        candidateOf(
          item,
          'already-redriven',
          `redriven at ${record.redriveDate ?? '(unknown time)'}`,
          false,
          'redriven',
        ),
      );
      return;
    }
    let recorded = record
      ? `${record.outcome}${record.reason ? `: ${record.reason}` : ''}`
      : undefined;
    if (record) {
      // The automatic path decided not to redrive it: an earlier manual run may have.
      calls.GetItem++;
      const manual = await readRecord(readRecordOf, manualIdempotencyKey(key));
      if (manual === 'in-progress' || manual?.outcome === 'redriven') {
        candidates.push(
          candidateOf(
            item,
            manual === 'in-progress' ? 'in-progress-elsewhere' : 'already-redriven',
            manual === 'in-progress'
              ? 'another manual run is redriving it right now'
              : `redriven by hand at ${manual.redriveDate ?? '(unknown time)'}`,
            false,
            recorded,
          ),
        );
        return;
      }
      if (manual) recorded = `${recorded}; by hand: ${manual.outcome}`;
    }
    toDescribe.push({ ...entry, recorded });
  });

  // The breaker of each machine with candidates left: held ones are not described.
  const held = new Set<string>();
  if (!request.ignoreBreaker && deps.breakerStore) {
    const withCandidates = new Set(toDescribe.map((e) => e.machine.arn));
    for (const machine of machines) {
      if (!withCandidates.has(machine.arn) || machine.breaker === undefined) continue;
      if (machine.breaker !== 'closed') held.add(machine.arn);
    }
  }

  const schedule = createRateSchedule({ perSecond: request.describeRate, now: deps.now, sleep });
  const describable = toDescribe.filter((entry) => {
    if (!held.has(entry.machine.arn)) return true;
    candidates.push(
      candidateOf(
        entry.item,
        'held-by-breaker',
        `the breaker of ${entry.machine.name} is ${entry.machine.breaker}; pass --ignore-breaker to redrive anyway`,
        false,
        entry.recorded,
      ),
    );
    return false;
  });
  let described = 0;
  // A few describes in flight cover the call latency at the paced rate.
  const describeConcurrency = Math.min(25, Math.max(2, Math.ceil(request.describeRate / 5)));
  await mapWithConcurrency(describable, describeConcurrency, async (entry) => {
    const { item, machine } = entry;
    await schedule.take();
    calls.DescribeExecution++;
    const confirmed = await describeStatusChange(
      sfn,
      statusChangeOf(item, deps.now()),
      { deadline: deps.now() + 30_000 },
      'confirming',
    );
    deps.onPhase?.('describe', ++described, describable.length);
    if (!confirmed) {
      candidates.push(
        candidateOf(
          item,
          'execution-not-found',
          'DescribeExecution answered ExecutionDoesNotExist',
          false,
          entry.recorded,
        ),
      );
      return;
    }
    if (
      request.errors.length > 0 &&
      firstMatchingEntry(confirmed.errorName ?? '', request.errors) === undefined
    ) {
      notMatchingError++;
      return;
    }
    // Outside the deployed scope, live healing does not apply: the operator's reason stands for it.
    const liveSince = machine.inScope
      ? liveSinceOf(liveSinceDocument, config, machine, confirmed.status)
      : Number.NEGATIVE_INFINITY;
    const decision = decideRedrive(confirmed, machine.policy, deps.now(), liveSince);
    const { reason, detail } = reasonOf(decision);
    candidates.push({
      ...candidateOf(
        {
          ...item,
          status: confirmed.status,
          redriveCount: confirmed.redriveCount ?? item.redriveCount,
          stopDate: confirmed.stopDate ?? item.stopDate,
        },
        reason,
        detail,
        redrivenSet.has(reason),
        entry.recorded,
      ),
      error: confirmed.errorName,
      change: confirmed,
    });
  });

  // Stable order for the report: by machine, then newest stop first.
  candidates.sort(
    (a, b) =>
      a.stateMachine.localeCompare(b.stateMachine) ||
      b.stopDate.localeCompare(a.stopDate) ||
      a.executionArn.localeCompare(b.executionArn),
  );
  return { machines, candidates, outsideTimeRange, notMatchingError, calls };

  /** The machines the selectors pick (all of the scope without any), scope-checked, with their breakers. */
  async function selectMachines(
    req: RedriveRequest,
    planDeps: PlanDeps,
    pacer: { take(): Promise<void> },
    counters: Record<string, number>,
  ): Promise<PlannedMachine[]> {
    const scope = scopeIndexOf(config);
    const home = `${statesArnPrefix}stateMachine:`;
    const needsListing =
      req.machines.length === 0
        ? config.stateMachineNamePrefixes.length > 0
        : req.machines.some((s) => s.kind !== 'arn');
    const known = new Map<string, string>();
    for (const arn of config.stateMachineArns) {
      known.set(arn, parseStateMachineArn(arn)?.stateMachineName ?? arn);
    }
    if (needsListing) {
      await pacer.take();
      for await (const page of paginateListStateMachines(
        { client: sfn, pageSize: PAGE_SIZE },
        {},
      )) {
        counters.ListStateMachines++;
        for (const m of page.stateMachines ?? []) {
          if (m.stateMachineArn && m.name && m.type === 'STANDARD')
            known.set(m.stateMachineArn, m.name);
        }
        if (page.nextToken) await pacer.take();
      }
    }
    const picked = new Map<string, string>();
    if (req.machines.length === 0) {
      for (const [arn, name] of known) {
        if (scope.hasArn(arn) || (arn.startsWith(home) && scope.hasNamePrefixOf(name)))
          picked.set(arn, name);
      }
    } else {
      for (const selector of req.machines) {
        const matches = [...known].filter(([arn, name]) => selects(selector, arn, name, home));
        if (selector.kind === 'arn' && matches.length === 0) {
          matches.push([selector.arn, parseStateMachineArn(selector.arn)?.stateMachineName ?? '']);
        }
        if (matches.length === 0) {
          throw new CliError(`--state-machine ${selector.text} matches no Standard state machine`);
        }
        for (const [arn, name] of matches) picked.set(arn, name);
      }
    }
    const outside = [...picked].filter(
      ([arn]) => !isStateMachineInScope(config, arn, statesArnPrefix),
    );
    if (outside.length > 0 && req.outsideScope === undefined) {
      const names = outside.map(([, name]) => name);
      throw new CliError(
        `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''} ${names.length === 1 ? 'is' : 'are'} outside the deployed scope; pass --outside-scope "REASON" to redrive ${names.length === 1 ? 'it' : 'them'} anyway`,
      );
    }
    const result: PlannedMachine[] = [];
    for (const [arn, name] of [...picked].sort(([a], [b]) => a.localeCompare(b))) {
      const inScope = isStateMachineInScope(config, arn, statesArnPrefix);
      const breakerOptions = breakerOptionsFor(config, name);
      let breaker: string | undefined;
      if (planDeps.breakerStore && breakerOptions.enabled && !req.ignoreBreaker) {
        const description = await describeBreaker(planDeps.breakerStore, arn, {
          breaker: breakerOptions,
          now: planDeps.now(),
          heldSample: 0,
        });
        breaker = description.effectiveState;
      }
      result.push({ arn, name, inScope, policy: policyFor(config, name), breaker });
    }
    return result;
  }
}

function selects(selector: MachineSelector, arn: string, name: string, home: string): boolean {
  switch (selector.kind) {
    case 'arn':
      return arn === selector.arn;
    case 'name':
      return (
        name === selector.name && (arn.startsWith(home) || arn.endsWith(`:stateMachine:${name}`))
      );
    case 'prefix':
      return name.startsWith(selector.prefix);
  }
}

/** A failed execution as listed. */
interface ListedFailure {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly stateMachine: string;
  readonly status: string;
  readonly startDate: number;
  readonly stopDate: number;
  readonly redriveCount: number;
}

function listedFailure(
  item: ExecutionListItem,
  machine: PlannedMachine,
): ListedFailure | undefined {
  if (!item.executionArn || !item.status || !item.startDate || !item.stopDate) return undefined;
  return {
    executionArn: item.executionArn,
    stateMachineArn: machine.arn,
    stateMachine: machine.name,
    status: item.status,
    startDate: item.startDate.getTime(),
    stopDate: item.stopDate.getTime(),
    redriveCount: item.redriveCount ?? 0,
  };
}

function candidateOf(
  item: ListedFailure,
  reason: CandidateReason,
  detail: string,
  redrive: boolean,
  recorded?: string,
): Candidate {
  return {
    executionArn: item.executionArn,
    stateMachineArn: item.stateMachineArn,
    stateMachine: item.stateMachine,
    status: item.status,
    stopDate: new Date(item.stopDate).toISOString(),
    redriveCount: item.redriveCount,
    reason,
    detail,
    redrive,
    ...(recorded === undefined ? {} : { recorded }),
  };
}

/** The listed facts as a status change, for DescribeExecution to confirm (ListExecutions has no error or redrive status). */
function statusChangeOf(item: ListedFailure, now: number): ExecutionStatusChange {
  return {
    eventId: `cli-${failureKey(item.executionArn, item.redriveCount)}`,
    source: 'autoheal.cli',
    eventTime: now,
    executionArn: item.executionArn,
    stateMachineArn: item.stateMachineArn,
    stateMachineName: item.stateMachine,
    status: item.status,
    isMapRunChild: false,
    redriveCount: item.redriveCount,
    redriveStatus: undefined,
    redriveStatusReason: undefined,
    errorName: undefined,
    stopDate: item.stopDate,
  };
}

export type { RedrivableStatus };
