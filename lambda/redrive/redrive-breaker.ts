/**
 * The storm brake inside the redrive handler: per state machine, it records
 * the outcome of Autoheal's own redrives (relapses and recoveries), opens and
 * closes the machine's breaker when they call for it (one winner, one notice),
 * and holds the failures that would be redriven into a broken downstream.
 *
 * The state and its conditional transitions live in the {@link BreakerStore};
 * when to move is the pure `evaluateBreaker`. This module joins them to one
 * SQS record of the redrive path:
 *
 * - {@link RedriveBreaker.observe}: the signal the record carries, if any,
 *   recorded once per failure key on its first sight (not on deferral hops,
 *   probes or re-sent held failures), then the transition it calls for.
 * - {@link RedriveBreaker.admit}: for a failure about to be redriven, redrive
 *   it, or hold it while the breaker is open (or half-open and it is not a
 *   probe). Observe-only machines are reported, never held.
 *
 * Cost while closed: `admit` reads the breaker through the store's short
 * in-memory cache (no call on a warm cache); `observe` makes one store call
 * per redriven execution's outcome, none for a first failure.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSRecord } from 'aws-lambda';
import {
  type BreakerConfigSource,
  type BreakerOptions,
  breakerOptionsFor,
} from '../shared/config/breaker-config';
import { MESSAGE_ATTRIBUTES, SWEEPER_ORIGIN } from '../shared/contract';
import { countMetric } from '../shared/metrics';
import { type Notice, publishNotice } from '../shared/notices';
import {
  type BreakerState,
  type BreakerView,
  breakerClosedNotice,
  breakerOpenedNotice,
  evaluateBreaker,
  openingsAfter,
} from './breaker/breaker-policy';
import type { BreakerStore } from './breaker/breaker-store';
import { breakerSignalOf, failureKey, type RedriveDecision } from './decide';
import type { ExecutionStatusChange } from './failure-event';

const MINUTE_MS = 60_000;

/** The breaker's metric names. */
export const BREAKER_METRIC = {
  opened: 'BreakerOpened',
  closed: 'BreakerClosed',
  held: 'HeldByBreaker',
  probe: 'ProbeRedrive',
  /** A relapse or recovery counted (once per failure key). */
  relapse: 'BreakerRelapse',
  recovery: 'BreakerRecovery',
  /** A transition's notice could not be published (logged with the notice). */
  noticeFailed: 'BreakerNoticeFailed',
} as const;

/** Dimension (`reason`) of the breaker metrics of an observe-only machine: reported, not enforced. */
export const OBSERVE_ONLY = 'observe-only';

export type { BreakerState } from './breaker/breaker-policy';

export interface RedriveBreakerDeps {
  readonly store: BreakerStore;
  readonly config: BreakerConfigSource;
  readonly sns: SNSClient;
  readonly noticeTopicArn: string;
  readonly metrics: Metrics;
}

/** One state machine's breaker as one record sees it. */
export interface MachineBreaker {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly options: BreakerOptions;
  /** Report, never hold. */
  readonly observeOnly: boolean;
}

/** What {@link RedriveBreaker.admit} decided for a failure about to be redriven. */
export type Admission =
  /** Closed (or forced closed): redrive as usual. */
  | { readonly verdict: 'redrive'; readonly breaker: BreakerState }
  /** Half-open and the message is a probe: redrive it, counted as `ProbeRedrive`. */
  | { readonly verdict: 'probe'; readonly breaker: BreakerState }
  /** Held: the failure waits in the healing state table; the message is done. */
  | { readonly verdict: 'hold'; readonly breaker: BreakerState }
  /** Observe-only: it would have been held; it is observed as usual. */
  | { readonly verdict: 'would-hold'; readonly breaker: BreakerState };

export interface RedriveBreaker {
  /** The machine's breaker, or undefined when it is disabled for that machine. */
  machine(change: ExecutionStatusChange, observeOnly: boolean): MachineBreaker | undefined;
  /**
   * Records the signal `change` carries, if any, and makes the transition it
   * calls for. Returns the breaker state after it, or undefined when the
   * record carries no signal to record.
   *
   * @param trusted false when the record's facts may be stale and were not confirmed
   */
  observe(
    machine: MachineBreaker,
    record: SQSRecord,
    change: ExecutionStatusChange,
    decision: RedriveDecision,
    trusted: boolean,
    log: Logger,
  ): Promise<BreakerState | undefined>;
  /** The breaker state now, through the store's cache: for the decision's log line. */
  state(machine: MachineBreaker): Promise<BreakerState>;
  /**
   * Whether a failure about to be redriven may be; holds it when not.
   *
   * @param known the state {@link RedriveBreaker.observe} just left the breaker in, if it
   *   made a transition (fresher than the cache)
   */
  admit(
    machine: MachineBreaker,
    record: SQSRecord,
    change: ExecutionStatusChange,
    log: Logger,
    known?: BreakerState,
  ): Promise<Admission>;
}

function hasAttribute(record: SQSRecord, name: string): boolean {
  return record.messageAttributes?.[name] !== undefined;
}

/**
 * True on a failure's first sight: not one of Autoheal's deferral hops, not a
 * probe or a re-sent held failure (the keeper's), whose signal was recorded
 * when it first arrived. The sweeper's messages are first sights (their event
 * was never delivered). Redeliveries of a first sight pass too: the store
 * counts a failure key once.
 */
export function isFirstSight(record: SQSRecord): boolean {
  if (hasAttribute(record, MESSAGE_ATTRIBUTES.deferrals)) return false;
  if (hasAttribute(record, MESSAGE_ATTRIBUTES.probe)) return false;
  const origin = record.messageAttributes?.[MESSAGE_ATTRIBUTES.origin]?.stringValue;
  return origin === undefined || origin === SWEEPER_ORIGIN;
}

/** True when the message is a probe the keeper sent in half-open. */
export function isProbe(record: SQSRecord): boolean {
  return hasAttribute(record, MESSAGE_ATTRIBUTES.probe);
}

/** The state decisions run under: an operator's forced state wins over the computed one. */
export function effectiveState(view: BreakerView): BreakerState {
  return view.forced ?? view.state;
}

/**
 * The transition a counted signal calls for, if the redrive handler is the one
 * to make it: `open` (closed with enough relapses in the window, or half-open
 * and a probe relapsed) or `closed` (half-open and a probe recovered), as
 * `evaluateBreaker` says. `half-open` is the keeper's (it sends the probes); a
 * forced breaker never moves on signals.
 */
export function transitionFor(
  view: BreakerView,
  options: BreakerOptions,
  now: number,
): 'open' | 'closed' | undefined {
  const { transition } = evaluateBreaker(view, options, now);
  return transition === 'open' || transition === 'closed' ? transition : undefined;
}

/**
 * Builds the breaker of the redrive handler.
 *
 * @example
 * ```ts
 * const breaker = createRedriveBreaker({ store, config, sns, noticeTopicArn, metrics });
 * const machine = breaker.machine(change, policy.observeOnly);
 * if (machine && (await breaker.admit(machine, record, change, log)).verdict === 'hold') return;
 * ```
 */
export function createRedriveBreaker(
  deps: RedriveBreakerDeps,
  now: () => number = Date.now,
): RedriveBreaker {
  const { store, metrics } = deps;
  /**
   * The records of a batch run concurrently: on a cold cache each would read the
   * breaker item. Reads of one machine in flight are shared, so an environment
   * reads it once per cache period whatever its batch size.
   */
  const reading = new Map<string, Promise<BreakerView>>();
  const readCached = (machineArn: string, at: number): Promise<BreakerView> => {
    const inFlight = reading.get(machineArn);
    if (inFlight) return inFlight;
    const read = store.read(machineArn, at).finally(() => reading.delete(machineArn));
    reading.set(machineArn, read);
    return read;
  };
  const count = (name: string, machine: MachineBreaker) =>
    countMetric(metrics, name, machine.observeOnly ? OBSERVE_ONLY : undefined);

  /**
   * The one notice of a transition this environment won (the policy's notice, with its
   * evidence: never execution input, output or cause), marked when the machine is observed only.
   */
  const announce = async (
    machine: MachineBreaker,
    before: BreakerView,
    to: 'open' | 'closed',
    at: number,
    openings: number,
    log: Logger,
  ): Promise<void> => {
    const notice =
      to === 'open'
        ? breakerOpenedNotice(machine.stateMachineArn, before, machine.options, at, openings)
        : breakerClosedNotice(machine.stateMachineArn, before, machine.options, at);
    const marked: Notice = machine.observeOnly
      ? {
          ...notice,
          subject: `${notice.subject} (observe only: nothing held)`,
          facts: { ...notice.facts, observeOnly: true },
        }
      : notice;
    try {
      await publishNotice(deps.sns, deps.noticeTopicArn, marked);
    } catch (error) {
      // The transition is made and will not be made again, so a retry of the record would not
      // announce it either: say so loudly instead of failing the record's own work.
      log.error('The breaker notice could not be published', { error, notice: marked });
      countMetric(metrics, BREAKER_METRIC.noticeFailed);
    }
  };

  const observe: RedriveBreaker['observe'] = async (
    machine,
    record,
    change,
    decision,
    trusted,
    log,
  ) => {
    const at = now();
    const signal = breakerSignalOf(change, decision, at, machine.options.windowMinutes * MINUTE_MS);
    if (signal === undefined || !isFirstSight(record)) return undefined;
    // A stale success that was not confirmed could close a breaker on old news.
    if (signal === 'recovery' && !trusted) return undefined;
    const key = failureKey(change.executionArn, change.redriveCount ?? 0);
    const { counted, view } = await store.recordSignal(
      machine.stateMachineArn,
      key,
      signal,
      change.errorName ?? '',
      at,
    );
    if (!counted) return effectiveState(view);
    count(signal === 'relapse' ? BREAKER_METRIC.relapse : BREAKER_METRIC.recovery, machine);
    // The view is the cached one plus this signal. While closed that is enough (the cache is
    // seconds old, a cool-down minutes long). An open breaker may have gone half-open since
    // (the keeper), and this may be a probe's outcome: decide on the item as it is. Signals
    // while open are few (probes, stragglers), so the read costs nothing while closed.
    const basis =
      view.state === 'open' && view.forced === undefined
        ? await store.read(machine.stateMachineArn, at, { fresh: true })
        : view;
    const to = transitionFor(basis, machine.options, at);
    if (to === undefined) return effectiveState(basis);
    const openings = openingsAfter(basis, machine.options, at);
    const won = await store.transition(
      machine.stateMachineArn,
      basis,
      to,
      at,
      to === 'open' ? { openings } : undefined,
    );
    log.info(
      won
        ? to === 'open'
          ? 'Breaker opened'
          : 'Breaker closed'
        : 'Breaker transition made by another environment',
      {
        breaker: won ? to : basis.state,
        breakerFrom: basis.state,
        signal,
        relapses: basis.relapses,
        recoveries: basis.recoveries,
        observeOnly: machine.observeOnly,
      },
    );
    if (!won) return effectiveState(await readCached(machine.stateMachineArn, at));
    count(to === 'open' ? BREAKER_METRIC.opened : BREAKER_METRIC.closed, machine);
    await announce(machine, basis, to, at, openings, log);
    return to;
  };

  const admit: RedriveBreaker['admit'] = async (machine, record, change, log, known) => {
    const at = now();
    const view = await readCached(machine.stateMachineArn, at);
    const breaker = view.forced ?? known ?? view.state;
    if (breaker === 'closed') return { verdict: 'redrive', breaker };
    if (breaker === 'half-open' && isProbe(record)) {
      count(BREAKER_METRIC.probe, machine);
      return { verdict: 'probe', breaker };
    }
    const facts = {
      decision: 'hold',
      breaker,
      forced: view.forced,
      redriveCount: change.redriveCount,
    };
    if (machine.observeOnly) {
      log.info('The breaker would hold this failure (observe only: not held)', facts);
      count(BREAKER_METRIC.held, machine);
      return { verdict: 'would-hold', breaker };
    }
    await store.hold(
      {
        executionArn: change.executionArn,
        stateMachineArn: machine.stateMachineArn,
        redriveCount: change.redriveCount ?? 0,
        stopDate: change.stopDate ?? at,
        errorName: change.errorName ?? '',
        status: change.status,
        heldAt: at,
      },
      at,
    );
    log.info('Held by the breaker; redriven when it closes', facts);
    count(BREAKER_METRIC.held, machine);
    return { verdict: 'hold', breaker };
  };

  return {
    machine(change, observeOnly) {
      const options = breakerOptionsFor(deps.config, change.stateMachineName);
      if (!options.enabled) return undefined;
      return {
        stateMachineArn: change.stateMachineArn,
        stateMachineName: change.stateMachineName,
        options,
        observeOnly,
      };
    },
    observe,
    state: async (machine) => effectiveState(await readCached(machine.stateMachineArn, now())),
    admit,
  };
}
