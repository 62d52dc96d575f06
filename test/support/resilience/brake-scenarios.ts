/**
 * The storm brake's scenarios, sized by the caller: `npm test` runs them
 * small, `npm run bench` at full size. Each runs the real redrive handler in
 * several environments against the local AWS endpoint, whose state machines'
 * downstreams are scripted (broken, healthy, flapping), on a simulated clock:
 * every redrive of a broken downstream's execution fails again and its
 * relapse event comes back through the rule into the work queue, as in AWS.
 * Each scenario returns plain figures; the caller asserts or reports them.
 */
import { BREAKER_NOTICE } from '../../../lambda/redrive/breaker/breaker-policy';
import {
  isStateMachineInScope,
  type RedriveHandlerConfig,
} from '../../../lambda/shared/config/redrive-config';
import { MESSAGE_ATTRIBUTES } from '../../../lambda/shared/contract';
import { toSqsBody } from '../fixtures';
import {
  type ExecutionState,
  flapping,
  isWithin,
  type StatusChangeEvent,
  type TimeSpan,
  type TokenBucketQuota,
} from '../local-aws/local-aws-endpoint';
import {
  type AttachedBrake,
  type BreakerMode,
  type BreakerTimelineState,
  brakeScenarioConfig,
  createBrakeWiring,
} from './brake-wiring';
import {
  machineArnOf,
  type PublishedNotice,
  RIG_ACCOUNT,
  RIG_REGION,
  startRedriveRig,
} from './redrive-rig';
import { SimulatedClock } from './simulated-clock';

export { BRAKE_KEEPER_WIRED, type BreakerMode, type BreakerTimelineState } from './brake-wiring';

/** RedriveExecution's quota in most regions (aws-facts): 800 burst, 150 a second. */
export const REDRIVE_QUOTA: TokenBucketQuota = { burst: 800, perSecond: 150 };
/** The broken machine of the scenarios. */
export const BROKEN_MACHINE = 'autoheal-demo-payments';
/** The healthy machine of the two-machine scenario. */
export const HEALTHY_MACHINE = 'autoheal-demo-orders';

const STATES_ARN_PREFIX = `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:`;
const MINUTE_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the scenarios run, whatever their size. */
export interface BrakeRunOptions {
  /** The redrive handler's concurrent environments. @default 5 */
  readonly environments?: number;
  /** RedriveExecution's quota, per simulated second. @default {@link REDRIVE_QUOTA} */
  readonly quota?: TokenBucketQuota;
  /** How long a redriven execution runs before it fails again or succeeds, simulated s. @default 2 */
  readonly runSeconds?: number;
  /**
   * Real ms per simulated second while the work queue holds a backlog (more
   * messages receivable or in flight than environments): the drains.
   * @default 1000 (real time, so RedriveExecution's quota paces them as in AWS)
   */
  readonly timeScale?: number;
  /**
   * Real ms per simulated second while the work queue holds less: a trickle
   * of failures and relapses, whose handling (about 0.1 s a hop on the rig,
   * DynamoDB Local included) then takes 1000 / lightTimeScale times as long
   * in simulated time: 0.4 s a hop at 250, about EventBridge's and SQS's
   * delivery latency in AWS. Idle spans are skipped whatever the scale.
   * @default 250 (the baseline's figures within a few percent of a real-time run's)
   */
  readonly lightTimeScale?: number;
  /** Give up (and report `abandoned`) after this many simulated minutes. @default 120 */
  readonly maxSimulatedMinutes?: number;
  /**
   * With the breaker on: run its keeper every simulated minute. Without it,
   * the run shows the handler's part alone (opening and holding), and ends
   * with the failures held. @default true (when the keeper is wired in)
   */
  readonly withKeeper?: boolean;
}

/** One state machine of a run: its failures and its downstream. */
interface MachinePlan {
  readonly machine: string;
  readonly failures: number;
  /** The failures arrive evenly over this span, ms after the start. */
  readonly arrivals: TimeSpan;
  /** When its downstream is broken, ms after the start. */
  readonly broken: readonly TimeSpan[];
}

/** One second of a run. */
export interface TimelineSecond {
  /** Simulated seconds since the run began. */
  readonly second: number;
  /** Effective RedriveExecution calls in that second. */
  readonly redrives: number;
  /** Redriven executions that failed again in that second. */
  readonly relapses: number;
  /** Redriven executions that succeeded in that second. */
  readonly recoveries: number;
  /** The broken machine's breaker at the end of that second. */
  readonly breaker: BreakerTimelineState;
}

interface RunRecord {
  readonly start: number;
  readonly executions: Readonly<Record<string, readonly ExecutionState[]>>;
  readonly notices: readonly PublishedNotice[];
  /** Execution ARNs parked in the dead-letter queue. */
  readonly parked: ReadonlySet<string>;
  /** Terminal events of redriven executions, by machine: when, and whether they relapsed. */
  readonly settled: readonly {
    readonly machine: string;
    readonly at: number;
    readonly relapse: boolean;
  }[];
  /** Breaker state changes of the broken machine. */
  readonly breakerChanges: readonly { readonly at: number; readonly state: BreakerTimelineState }[];
  /** Executions whose failure the breaker holds at the end (only while the keeper is not wired in). */
  readonly held: ReadonlySet<string>;
  readonly keeperWired: boolean;
  /** Events the rule let through / kept out. */
  readonly routed: number;
  readonly filtered: number;
  readonly abandoned: boolean;
  readonly end: number;
}

/**
 * True when the deployed redrive rule matches the event: a failure
 * (a status the policy redrives) of a scoped machine, or, with the breaker
 * on, a scoped machine's SUCCEEDED with redriveCount >= 1 (the breaker's
 * recovery signal). RUNNING events never match.
 */
function ruleMatches(
  event: StatusChangeEvent,
  config: RedriveHandlerConfig,
  breaker: BreakerMode,
): boolean {
  const { status, stateMachineArn, redriveCount } = event.detail;
  if (!isStateMachineInScope(config, stateMachineArn, STATES_ARN_PREFIX)) return false;
  if ((config.statuses as readonly string[]).includes(status)) return true;
  return breaker === 'on' && status === 'SUCCEEDED' && redriveCount >= 1;
}

/**
 * Runs machines' failures through the redrive path until nothing is left to
 * do: failures arrive over their span, the handlers redrive them, redriven
 * executions settle as their downstream's script says and their events come
 * back through the rule; with the breaker on, the keeper runs every simulated
 * minute. Idle spans of the simulated clock are skipped.
 */
async function runMachines(
  plans: readonly MachinePlan[],
  breaker: BreakerMode,
  options: BrakeRunOptions,
): Promise<RunRecord> {
  const wiring = breaker === 'on' ? await createBrakeWiring() : undefined;
  const config = wiring?.config ?? brakeScenarioConfig(breaker);
  const quota = options.quota ?? REDRIVE_QUOTA;
  const runMs = (options.runSeconds ?? 2) * 1000;
  // Whole seconds, so the timeline's seconds are the clock's.
  const start = Math.ceil(Date.now() / 1000) * 1000;
  const busyTimeScale = options.timeScale ?? 1000;
  const lightTimeScale = options.lightTimeScale ?? 250;
  const backlog = options.environments ?? 5;
  const clock = new SimulatedClock(start, lightTimeScale);
  const rig = await startRedriveRig({
    environments: options.environments ?? 5,
    clock,
    config,
    faults: { quotas: { RedriveExecution: quota } },
    ...(wiring && { extraDeps: (clients) => wiring.handlerDeps(clients) }),
  });
  let brake: AttachedBrake | undefined;
  let pace: NodeJS.Timeout | undefined;
  try {
    brake = await wiring?.attach(rig);
    const queueName = rig.workQueueUrl.split('/').at(-1) ?? '';
    const executions: Record<string, string[]> = {};
    const settled: { machine: string; at: number; relapse: boolean }[] = [];
    const errors: unknown[] = [];
    let keeperRunning = false;
    let pending = 0;
    let routed = 0;
    let filtered = 0;

    const deliver = (event: StatusChangeEvent) => {
      if (!ruleMatches(event, config, breaker)) {
        filtered++;
        return;
      }
      routed++;
      pending++;
      rig
        .enqueue([toSqsBody(event)], 1)
        .catch((error: unknown) => errors.push(error))
        .finally(() => pending--);
    };
    rig.endpoint.onStatusChange((event) => {
      const { status, redriveCount, stopDate, stateMachineArn } = event.detail;
      if (status !== 'RUNNING' && redriveCount >= 1) {
        const machine = stateMachineArn.split(':').at(-1) ?? '';
        settled.push({ machine, at: stopDate ?? clock.now(), relapse: status !== 'SUCCEEDED' });
      }
      deliver(event);
    });

    const arrivals: { at: number; machine: string; index: number }[] = [];
    for (const plan of plans) {
      const arn = machineArnOf(plan.machine);
      rig.endpoint.scriptDownstream(arn, {
        broken: plan.broken.map((s) => ({ from: start + s.from, to: start + s.to })),
        runMs,
      });
      executions[plan.machine] = [];
      const span = plan.arrivals.to - plan.arrivals.from;
      for (let i = 0; i < plan.failures; i++) {
        arrivals.push({
          at: start + plan.arrivals.from + Math.floor((span * i) / plan.failures),
          machine: plan.machine,
          index: i,
        });
      }
    }
    arrivals.sort((a, b) => a.at - b.at);
    // Quotas start full at the first failure, as after a quiet spell.
    rig.endpoint.setFaults({ quotas: { RedriveExecution: quota } });

    // The scale follows the work queue every few ms, also while the driver awaits the keeper.
    pace = setInterval(() => {
      const depth = rig.endpoint.queueDepth(queueName);
      clock.setTimeScale(depth.visible + depth.inFlight > backlog ? busyTimeScale : lightTimeScale);
    }, 5);
    let done = false;
    let abandoned = false;
    const drained = rig.drain(24 * 60 * MINUTE_MS, () => done);
    let nextArrival = 0;
    let nextTick = start + MINUTE_MS;
    const brokenArn = machineArnOf(plans[0]?.machine ?? BROKEN_MACHINE);
    const horizon = start + (options.maxSimulatedMinutes ?? 120) * MINUTE_MS;
    while (!done) {
      const now = clock.now();
      const arriving: string[] = [];
      while (nextArrival < arrivals.length && arrivals[nextArrival].at <= now) {
        const { at, machine, index } = arrivals[nextArrival++];
        const executionArn = `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:execution:${machine}:run-${index}`;
        rig.endpoint.addExecution({
          executionArn,
          stateMachineArn: machineArnOf(machine),
          status: 'FAILED',
          startDate: at - 30_000,
          stopDate: at,
          error: 'Lambda.ServiceException',
          cause: 'Lambda.ServiceException: the downstream is unavailable',
        });
        executions[machine]?.push(executionArn);
        arriving.push(toSqsBody(rig.endpoint.statusChangeEvent(executionArn)));
      }
      if (arriving.length > 0) {
        routed += arriving.length;
        pending++;
        rig
          .enqueue(arriving)
          .catch((error: unknown) => errors.push(error))
          .finally(() => pending--);
      }
      // The keeper runs beside the handlers, as its schedule runs it: a run may wait for its probes.
      if (brake?.keeperWired && options.withKeeper !== false && now >= nextTick && !keeperRunning) {
        keeperRunning = true;
        pending++;
        brake
          .keeperTick(nextTick)
          .catch((error: unknown) => errors.push(error))
          .finally(() => {
            keeperRunning = false;
            pending--;
          });
        nextTick += MINUTE_MS;
      }
      rig.endpoint.settleDueExecutions();
      const depth = rig.endpoint.queueDepth(queueName);
      if (depth.visible + depth.inFlight === 0 && pending === 0) {
        const waiting = [
          rig.endpoint.nextVisibleAt(queueName),
          rig.endpoint.nextSettlementAt(),
          arrivals[nextArrival]?.at,
        ].filter((at): at is number => at !== undefined);
        // Without its keeper, nothing would ever take back what the breaker holds.
        const keeper = brake?.keeperWired === true && options.withKeeper !== false;
        if (waiting.length === 0 && (!keeper || (await brake?.heldExecutions())?.size === 0)) {
          done = true;
        } else {
          clock.skipTo(Math.min(...waiting, keeper ? nextTick : Number.POSITIVE_INFINITY));
        }
      }
      if (now > horizon) {
        abandoned = true;
        done = true;
        rig.endpoint.drain(queueName);
      }
      if (errors.length > 0) throw errors[0];
      await sleep(2);
    }
    await drained;
    const parked = new Set<string>();
    for (const message of rig.parked()) {
      if (!message.messageAttributes[MESSAGE_ATTRIBUTES.parkedReason]) continue;
      const arn = JSON.parse(message.body)?.detail?.executionArn;
      if (typeof arn === 'string') parked.add(arn);
    }
    return {
      start,
      executions: Object.fromEntries(
        Object.entries(executions).map(([machine, arns]) => [
          machine,
          arns.map((arn) => rig.endpoint.execution(arn) as ExecutionState),
        ]),
      ),
      notices: rig.notices(),
      parked,
      held: (await brake?.heldExecutions()) ?? new Set(),
      keeperWired: (brake?.keeperWired ?? false) && options.withKeeper !== false,
      settled,
      // Exact: every transition a store won, at its time (a breaker starts closed).
      breakerChanges: brake
        ? [{ at: start, state: 'closed' }, ...brake.transitions(brokenArn)]
        : [],
      routed,
      filtered,
      abandoned,
      end: clock.now(),
    };
  } finally {
    clearInterval(pace);
    brake?.destroy();
    await rig.stop();
  }
}

/** What became of one machine's failures. */
interface MachineOutcome {
  readonly failures: number;
  /** Effective redrives made while its downstream was broken. */
  readonly wastedRedrives: number;
  readonly redrives: number;
  /** Executions that end SUCCEEDED. */
  readonly healed: number;
  /** Executions Autoheal gave up on, each with a give-up notice. */
  readonly gaveUp: number;
  /** Neither healed nor given up with a notice nor parked with a reason nor held by the breaker. */
  readonly lost: number;
  /** Held by the breaker at the end (only while the keeper is not wired in). */
  readonly held: number;
  /** Redrives of a failure already redriven (a client token used twice). */
  readonly duplicates: number;
  /** When its last execution succeeded, epoch ms (undefined when none did). */
  readonly lastHealedAt: number | undefined;
}

function outcomeOf(run: RunRecord, machine: string, broken: readonly TimeSpan[]): MachineOutcome {
  const executions = run.executions[machine] ?? [];
  const spans = broken.map((s) => ({ from: run.start + s.from, to: run.start + s.to }));
  const noticed = new Set<string>();
  for (const notice of run.notices) {
    const arn = notice.message.executionArn;
    if (typeof arn === 'string') noticed.add(arn);
  }
  const gaveUpOn = new Set(
    run.notices
      .filter((n) => n.kind === 'redrive-gave-up')
      .map((n) => String(n.message.executionArn)),
  );
  let wastedRedrives = 0;
  let redrives = 0;
  let healed = 0;
  let gaveUp = 0;
  let lost = 0;
  let held = 0;
  let duplicates = 0;
  let lastHealedAt: number | undefined;
  for (const e of executions) {
    redrives += e.redrives.length;
    wastedRedrives += e.redrives.filter((r) => isWithin(spans, r.at)).length;
    const tokens = e.redrives.map((r) => r.clientToken ?? '');
    duplicates += tokens.length - new Set(tokens).size;
    if (e.status === 'SUCCEEDED') {
      healed++;
      lastHealedAt = Math.max(lastHealedAt ?? 0, e.stopDate ?? 0);
    } else if (gaveUpOn.has(e.executionArn)) gaveUp++;
    else if (run.held.has(e.executionArn)) held++;
    else if (!noticed.has(e.executionArn) && !run.parked.has(e.executionArn)) lost++;
  }
  return {
    failures: executions.length,
    wastedRedrives,
    redrives,
    healed,
    gaveUp,
    lost,
    held,
    duplicates,
    lastHealedAt,
  };
}

/** Per simulated second from the start to the end of the run. */
function timelineOf(run: RunRecord, machine: string): TimelineSecond[] {
  const seconds = Math.ceil((run.end - run.start) / 1000) + 1;
  const rows = Array.from({ length: seconds }, (_, second) => ({
    second,
    redrives: 0,
    relapses: 0,
    recoveries: 0,
    breaker: 'off' as BreakerTimelineState,
  }));
  const at = (time: number) =>
    rows[Math.min(seconds - 1, Math.max(0, Math.floor((time - run.start) / 1000)))];
  for (const e of run.executions[machine] ?? []) for (const r of e.redrives) at(r.at).redrives++;
  for (const s of run.settled) {
    if (s.machine !== machine) continue;
    if (s.relapse) at(s.at).relapses++;
    else at(s.at).recoveries++;
  }
  let change = 0;
  let state: BreakerTimelineState = run.breakerChanges.length > 0 ? 'closed' : 'off';
  for (const row of rows) {
    const endOfSecond = run.start + (row.second + 1) * 1000;
    while (change < run.breakerChanges.length && run.breakerChanges[change].at < endOfSecond) {
      state = run.breakerChanges[change++].state;
    }
    row.breaker = state;
  }
  return rows;
}

function noticeCounts(notices: readonly PublishedNotice[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of notices) counts[n.kind] = (counts[n.kind] ?? 0) + 1;
  return counts;
}

export interface BrokenDownstreamFigures {
  readonly breaker: BreakerMode;
  readonly failures: number;
  /** Effective redrives made while the downstream was broken. */
  readonly wastedRedrives: number;
  readonly redrives: number;
  /** Executions that end SUCCEEDED. */
  readonly healedAfterRecovery: number;
  readonly gaveUp: number;
  /** Failures the breaker still holds at the end: only while its keeper is not wired in. */
  readonly held: number;
  readonly keeperWired: boolean;
  /** From the recovery to the last execution's success, simulated s; undefined when none healed. */
  readonly secondsToHealAfterRecovery: number | undefined;
  /** The quota-limited optimum: every failure redriven from a full bucket at the recovery, plus one run. */
  readonly optimumSeconds: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Notices published, by kind. */
  readonly notices: Readonly<Record<string, number>>;
  /** Events the rule let into the work queue, and those it kept out (RUNNING, and SUCCEEDED without the breaker). */
  readonly eventsRouted: number;
  readonly eventsFiltered: number;
  readonly abandoned: boolean;
  readonly simulatedSeconds: number;
  readonly timeline: readonly TimelineSecond[];
}

/**
 * `failures` failures of one machine whose downstream is broken for
 * `brokenMinutes` from the start, then healthy; the failures arrive evenly
 * over the outage (`arrivalSeconds`, default the whole outage), as traffic
 * keeps failing while it lasts.
 */
export async function brokenDownstream(
  options: {
    readonly failures: number;
    readonly brokenMinutes: number;
    readonly breaker: BreakerMode;
    readonly arrivalSeconds?: number;
  } & BrakeRunOptions,
): Promise<BrokenDownstreamFigures> {
  const brokenMs = options.brokenMinutes * MINUTE_MS;
  const broken = [{ from: 0, to: brokenMs }];
  const plan: MachinePlan = {
    machine: BROKEN_MACHINE,
    failures: options.failures,
    arrivals: { from: 0, to: (options.arrivalSeconds ?? options.brokenMinutes * 60) * 1000 },
    broken,
  };
  const run = await runMachines([plan], options.breaker, options);
  const outcome = outcomeOf(run, BROKEN_MACHINE, broken);
  const quota = options.quota ?? REDRIVE_QUOTA;
  const recoveredAt = run.start + brokenMs;
  return {
    breaker: options.breaker,
    failures: outcome.failures,
    wastedRedrives: outcome.wastedRedrives,
    redrives: outcome.redrives,
    healedAfterRecovery: outcome.healed,
    gaveUp: outcome.gaveUp,
    held: outcome.held,
    keeperWired: run.keeperWired,
    secondsToHealAfterRecovery:
      outcome.lastHealedAt === undefined ? undefined : (outcome.lastHealedAt - recoveredAt) / 1000,
    optimumSeconds:
      (options.runSeconds ?? 2) + Math.max(0, options.failures - quota.burst) / quota.perSecond,
    lost: outcome.lost,
    duplicates: outcome.duplicates,
    notices: noticeCounts(run.notices),
    eventsRouted: run.routed,
    eventsFiltered: run.filtered,
    abandoned: run.abandoned,
    simulatedSeconds: Math.round((run.end - run.start) / 1000),
    timeline: timelineOf(run, BROKEN_MACHINE),
  };
}

export interface TwoMachinesFigures {
  readonly breaker: BreakerMode;
  /** From the healthy machine's failures to its last success, simulated s, beside the broken one. */
  readonly healthySeconds: number | undefined;
  /** The same without the broken machine. */
  readonly healthySecondsAlone: number | undefined;
  /** healthySeconds / healthySecondsAlone. */
  readonly ratio: number | undefined;
  readonly healthyHealed: number;
  readonly healthyHealedAlone: number;
  readonly brokenWastedRedrives: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly abandoned: boolean;
}

/**
 * Two machines: one's downstream broken for `brokenMinutes` with
 * `brokenFailures` failures over the outage; the other healthy, its
 * `healthyFailures` failures all arriving halfway through the outage. The
 * healthy machine's time is compared with the same run without the broken one.
 */
export async function twoMachinesOneBroken(
  options: {
    readonly brokenFailures: number;
    readonly healthyFailures: number;
    readonly brokenMinutes: number;
    readonly breaker: BreakerMode;
  } & BrakeRunOptions,
): Promise<TwoMachinesFigures> {
  const brokenMs = options.brokenMinutes * MINUTE_MS;
  const broken = [{ from: 0, to: brokenMs }];
  const healthyAt = brokenMs / 2;
  const healthy: MachinePlan = {
    machine: HEALTHY_MACHINE,
    failures: options.healthyFailures,
    arrivals: { from: healthyAt, to: healthyAt + 1 },
    broken: [],
  };
  const both = await runMachines(
    [
      {
        machine: BROKEN_MACHINE,
        failures: options.brokenFailures,
        arrivals: { from: 0, to: brokenMs },
        broken,
      },
      healthy,
    ],
    options.breaker,
    options,
  );
  const alone = await runMachines([healthy], options.breaker, options);
  const beside = outcomeOf(both, HEALTHY_MACHINE, []);
  const solo = outcomeOf(alone, HEALTHY_MACHINE, []);
  const brokenOutcome = outcomeOf(both, BROKEN_MACHINE, broken);
  const secondsOf = (run: RunRecord, outcome: MachineOutcome) =>
    outcome.lastHealedAt === undefined
      ? undefined
      : (outcome.lastHealedAt - (run.start + healthyAt)) / 1000;
  const healthySeconds = secondsOf(both, beside);
  const healthySecondsAlone = secondsOf(alone, solo);
  return {
    breaker: options.breaker,
    healthySeconds,
    healthySecondsAlone,
    ratio:
      healthySeconds === undefined || !healthySecondsAlone
        ? undefined
        : healthySeconds / healthySecondsAlone,
    healthyHealed: beside.healed,
    healthyHealedAlone: solo.healed,
    brokenWastedRedrives: brokenOutcome.wastedRedrives,
    lost: beside.lost + solo.lost + brokenOutcome.lost,
    duplicates: beside.duplicates + solo.duplicates + brokenOutcome.duplicates,
    abandoned: both.abandoned || alone.abandoned,
  };
}

export interface FlappingFigures {
  readonly breaker: BreakerMode;
  readonly failures: number;
  readonly breakerOpenedNotices: number;
  readonly breakerClosedNotices: number;
  /** Every notice published, of any kind. */
  readonly notices: number;
  readonly noticesByKind: Readonly<Record<string, number>>;
  readonly wastedRedrives: number;
  readonly healed: number;
  readonly gaveUp: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly abandoned: boolean;
  readonly timeline: readonly TimelineSecond[];
}

/**
 * A flapping downstream: broken `brokenSeconds`, healthy `healthySeconds`,
 * repeating for `flapMinutes`, healthy after; `failures` failures arrive over
 * the flapping span.
 */
export async function flappingDownstream(
  options: {
    readonly failures: number;
    readonly flapMinutes: number;
    readonly breaker: BreakerMode;
    /** @default 60 */
    readonly brokenSeconds?: number;
    /** @default 60 */
    readonly healthySeconds?: number;
  } & BrakeRunOptions,
): Promise<FlappingFigures> {
  const until = options.flapMinutes * MINUTE_MS;
  const broken = flapping({
    from: 0,
    brokenMs: (options.brokenSeconds ?? 60) * 1000,
    healthyMs: (options.healthySeconds ?? 60) * 1000,
    until,
  });
  const run = await runMachines(
    [
      {
        machine: BROKEN_MACHINE,
        failures: options.failures,
        arrivals: { from: 0, to: until },
        broken,
      },
    ],
    options.breaker,
    options,
  );
  const outcome = outcomeOf(run, BROKEN_MACHINE, broken);
  const byKind = noticeCounts(run.notices);
  return {
    breaker: options.breaker,
    failures: outcome.failures,
    breakerOpenedNotices: byKind[BREAKER_NOTICE.opened] ?? 0,
    breakerClosedNotices: byKind[BREAKER_NOTICE.closed] ?? 0,
    notices: run.notices.length,
    noticesByKind: byKind,
    wastedRedrives: outcome.wastedRedrives,
    healed: outcome.healed,
    gaveUp: outcome.gaveUp,
    lost: outcome.lost,
    duplicates: outcome.duplicates,
    abandoned: run.abandoned,
    timeline: timelineOf(run, BROKEN_MACHINE),
  };
}
