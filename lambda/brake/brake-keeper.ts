/**
 * The brake keeper, built from injected clients so tests can drive it against
 * DynamoDB Local and mocked or local SQS. A schedule runs it every minute.
 *
 * For each state machine in the breaker registry (breaker not closed, forced,
 * or holding failures), in this order:
 *
 * 1. Held failures at the end of their 14-day redrive window: one
 *    `held-expired` notice each, then the item is removed (never dropped in
 *    silence); one day before, one `held-nearing-expiry` notice each (claimed
 *    on the item, so it is sent once).
 * 2. An open breaker past its cool-down goes half-open (conditional write:
 *    one keeper wins), and the winner sends the `probes` oldest held failures
 *    to the work queue marked `autoheal-probe`. A half-open breaker whose
 *    probes did not settle within the cool-down probes again, or closes when
 *    nothing is held. (The redrive handler closes or re-opens it on the
 *    probes' outcomes.)
 * 3. A closed breaker (or one forced closed) re-sends every held failure to
 *    the work queue, in SendMessageBatch calls of 10, and removes each only
 *    after SQS accepted it: nothing is lost, and a failure sent twice is
 *    redriven once (the redrive handler is idempotent per failure).
 * 4. The `BreakerState` gauge (0 closed, 1 half-open, 2 open); a closed
 *    machine with nothing held leaves the registry.
 *
 * Then the due notice digests are flushed, when a flush is given.
 *
 * A re-sent failure is the event the sweeper sends for a failure it found
 * (`sweptStatusChange`): the redrive handler confirms it with
 * DescribeExecution and decides on it as on any other.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  MessageAttributeValue,
  SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  BREAKER_NOTICE,
  type BreakerOptions,
  type BreakerState,
  type BreakerView,
  breakerClosedNotice,
  breakerOpenedNotice,
  breakerStateGauge,
  evaluateBreaker,
  openingsAfter,
} from '../redrive/breaker/breaker-policy';
import type { HeldFailure, KeeperBreakerStore } from '../redrive/breaker/breaker-store';
import { sweptStatusChange } from '../redrive/sweep-plan';
import { awsErrorName } from '../shared/aws-errors';
import { BRAKE_KEEPER_ORIGIN, MESSAGE_ATTRIBUTES, REDRIVE_WINDOW_DAYS } from '../shared/contract';
import { countMetric, flushMetrics } from '../shared/metrics';
import type { Notice } from '../shared/notices';
import { sendMessageBatch } from '../shared/sqs-send-batch';

/** What the brake keeper is built from. */
export interface BrakeKeeperDeps {
  /** The breaker store (`createBreakerStore`). */
  readonly store: KeeperBreakerStore;
  /** A machine's breaker options: `redrive.breaker` with its per-machine override. */
  readonly optionsFor: (machineArn: string) => BreakerOptions;
  readonly sqs: SQSClient;
  /** The redrive work queue (`AUTOHEAL_WORK_QUEUE_URL`). */
  readonly workQueueUrl: string;
  /** Sends one notice (the digest sender's `send`, or `publishNotice` on the topic). */
  readonly notify: (notice: Notice) => Promise<void>;
  /** Publishes the notice digests whose window ended (the digest sender's `flushDueDigests`). */
  readonly flushDigests?: (now: number) => Promise<void>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Held failures re-sent per machine and run; the rest go on the next run.
   * @default 5000
   */
  readonly drainLimit?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Lambda context of the keeper's invocation; only the remaining time is read. */
export interface BrakeKeeperContext {
  getRemainingTimeInMillis(): number;
}

/** One keeper run did not do everything: what is left is retried by the next run (nothing was lost). */
export class BrakeKeeperIncompleteError extends Error {
  public override readonly name = 'BrakeKeeperIncompleteError';

  public constructor(problems: readonly string[]) {
    super(
      `The brake keeper did not finish: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. The next run tries again; nothing held was removed.`,
    );
  }
}

/** Metric names of the brake. */
export const BRAKE_METRIC = {
  opened: 'BreakerOpened',
  closed: 'BreakerClosed',
  held: 'HeldByBreaker',
  probe: 'ProbeRedrive',
  state: 'BreakerState',
  resent: 'HeldResent',
  expired: 'HeldExpired',
  nearingExpiry: 'HeldNearingExpiry',
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;
/** A held failure is reported this long before its redrive window ends. */
export const NEARING_EXPIRY_MS = DAY_MS;
/** SendMessageBatch takes at most 10 entries. */
const SEND_BATCH_SIZE = 10;
/** Attempts of a batch entry SQS did not accept for a reason on its side. */
const SEND_ATTEMPTS = 3;
const SEND_RETRY_BASE_MS = 200;
/** Held failures read at once while draining. */
const DRAIN_PAGE = 100;
/** Expiring held failures handled per machine and run (the rest on the next run, a minute later). */
const EXPIRY_PAGE = 500;
/**
 * A machine registered this recently stays in the registry (a hold may be
 * writing its item). Far above the store's `REREGISTER_AFTER_MS`.
 */
const REGISTRY_RACE_MARGIN_MS = 60_000;
/** Stop starting new work when less than this is left of the invocation. */
const DEADLINE_MARGIN_MS = 10_000;
/**
 * How long one run waits for the probes it sent (or found in flight) to
 * settle, and how often it looks. A breaker is closed by the redrive handler
 * the moment a probe recovers, but the held backlog is the keeper's to re-send:
 * waiting here re-sends it seconds after the recovery instead of at the next
 * run, a minute later. Probes of longer executions are drained by the next run.
 */
const PROBE_WAIT_MS = 35_000;
const PROBE_POLL_MS = 2_000;

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

const nameOf = (arn: string): string => arn.split(':').at(-1) ?? arn;

/** The event the redrive handler parses for a held failure: the sweeper's, built by its builder. */
export function heldFailureMessage(held: HeldFailure, now: number): string {
  return JSON.stringify(
    sweptStatusChange(
      {
        executionArn: held.executionArn,
        stateMachineArn: held.stateMachineArn,
        name: nameOf(held.executionArn),
        status: held.status ?? 'FAILED',
        startDate: held.startDate ?? held.stopDate,
        stopDate: held.stopDate,
        redriveCount: held.redriveCount,
        redriveDate: undefined,
      },
      now,
    ),
  );
}

function heldFacts(held: HeldFailure, state: BreakerState) {
  return {
    stateMachineArn: held.stateMachineArn,
    executionArn: held.executionArn,
    redriveCount: held.redriveCount,
    error: held.errorName,
    stopDate: iso(held.stopDate),
    redriveWindowEndsAt: iso(held.stopDate + REDRIVE_WINDOW_DAYS * DAY_MS),
    heldAt: iso(held.heldAt),
    breaker: state,
  };
}

/** The `held-nearing-expiry` notice: a held failure has a day left to be redriven. */
export function heldNearingExpiryNotice(held: HeldFailure, state: BreakerState): Notice {
  return {
    kind: BREAKER_NOTICE.heldNearingExpiry,
    reason: 'redrive-window-ends',
    subject: `Autoheal holds ${nameOf(held.executionArn)}: its redrive window ends within a day`,
    facts: {
      ...heldFacts(held, state),
      action:
        'Force the breaker closed (forceBreaker) to redrive it now, or redrive it by hand before the window ends',
    },
  };
}

/** The `held-expired` notice: a held failure's redrive window ended; it is no longer held. */
export function heldExpiredNotice(held: HeldFailure, state: BreakerState): Notice {
  return {
    kind: BREAKER_NOTICE.heldExpired,
    reason: 'redrive-window-ended',
    subject: `Autoheal can no longer redrive ${nameOf(held.executionArn)}: held past its redrive window`,
    facts: {
      ...heldFacts(held, state),
      action: 'Step Functions refuses to redrive it; start a new execution if it still matters',
    },
  };
}

/**
 * Builds the brake keeper: one call is one run over every watched machine.
 *
 * @example
 * ```ts
 * const keep = createBrakeKeeper({ store, optionsFor, sqs, workQueueUrl, notify, flushDigests, logger, metrics });
 * export const handler = (event: unknown, context: Context) => keep(event, context);
 * ```
 */
export function createBrakeKeeper(
  deps: BrakeKeeperDeps,
): (event?: unknown, context?: BrakeKeeperContext) => Promise<void> {
  const { store, sqs, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const drainLimit = deps.drainLimit ?? 5000;

  const gauge = (machineArn: string, state: BreakerState): void => {
    const single = metrics.singleMetric();
    single.addDimension('stateMachine', nameOf(machineArn));
    single.addMetric(BRAKE_METRIC.state, MetricUnit.NoUnit, breakerStateGauge(state));
  };

  /**
   * Sends held failures to the work queue, 10 a call, retrying what SQS
   * failed on its side, and releases each one SQS accepted. Returns the
   * failures it could not send (they stay held).
   */
  const resend = async (
    machineArn: string,
    held: readonly HeldFailure[],
    probe: boolean,
  ): Promise<{ sent: HeldFailure[]; unsent: { held: HeldFailure; errorName: string }[] }> => {
    const sent: HeldFailure[] = [];
    const unsent: { held: HeldFailure; errorName: string }[] = [];
    const attributes: Record<string, MessageAttributeValue> = {
      [MESSAGE_ATTRIBUTES.origin]: { DataType: 'String', StringValue: BRAKE_KEEPER_ORIGIN },
    };
    if (probe) attributes[MESSAGE_ATTRIBUTES.probe] = { DataType: 'String', StringValue: 'true' };
    for (let i = 0; i < held.length; i += SEND_BATCH_SIZE) {
      let pending = held.slice(i, i + SEND_BATCH_SIZE).map((h, index) => ({
        held: h,
        entry: {
          Id: `h${index}`,
          MessageBody: heldFailureMessage(h, now()),
          MessageAttributes: attributes,
        } satisfies SendMessageBatchRequestEntry,
      }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const failures = await sendMessageBatch(
          sqs,
          deps.workQueueUrl,
          pending.map((p) => p.entry),
        );
        const retry: typeof pending = [];
        const accepted: HeldFailure[] = [];
        for (const p of pending) {
          const failure = failures.get(p.entry.Id);
          if (!failure) accepted.push(p.held);
          else if (failure.retryable && attempt < SEND_ATTEMPTS) retry.push(p);
          else unsent.push({ held: p.held, errorName: failure.errorName });
        }
        // Accepted by SQS: only now are they no longer held. A failed release sends one again next run (harmless).
        await Promise.all(
          accepted.map(async (h) => {
            try {
              if (!(await store.release(machineArn, h))) {
                // Its message met a breaker still open and was held again: it stays held.
                logger.info('A re-sent failure was held again before its release; it stays held', {
                  executionArn: h.executionArn,
                });
              }
            } catch (error) {
              logger.warn('Sent a held failure but could not release it; it will be sent again', {
                executionArn: h.executionArn,
                errorName: awsErrorName(error),
              });
            }
          }),
        );
        sent.push(...accepted);
        pending = retry;
        if (pending.length > 0) await sleep(SEND_RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
    return { sent, unsent };
  };

  /** Step 1: expired and nearing-expiry held failures. Returns problems. */
  const reportExpiring = async (
    machineArn: string,
    state: BreakerState,
    at: number,
  ): Promise<string[]> => {
    const problems: string[] = [];
    const windowMs = REDRIVE_WINDOW_DAYS * DAY_MS;
    const expiring = await store.heldBefore(
      machineArn,
      at - windowMs + NEARING_EXPIRY_MS,
      EXPIRY_PAGE,
    );
    for (const held of expiring) {
      const log = { executionArn: held.executionArn, breaker: state };
      if (at >= held.stopDate + windowMs) {
        try {
          await deps.notify(heldExpiredNotice(held, state));
        } catch (error) {
          problems.push(
            `the expiry of ${held.executionArn} was not reported (${awsErrorName(error)})`,
          );
          continue; // Kept held: reported on the next run, never removed in silence.
        }
        // False only when it was held again meanwhile: it is then reported again next run.
        await store.release(machineArn, held);
        countMetric(metrics, BRAKE_METRIC.expired);
        logger.warn('A held failure outlived its redrive window; reported and removed', log);
      } else if (held.reportedNearExpiry === undefined) {
        if (!(await store.claimNearExpiry(held, at))) continue;
        try {
          await deps.notify(heldNearingExpiryNotice(held, state));
        } catch (error) {
          await store.unclaimNearExpiry(held);
          problems.push(
            `the nearing expiry of ${held.executionArn} was not reported (${awsErrorName(error)})`,
          );
          continue;
        }
        countMetric(metrics, BRAKE_METRIC.nearingExpiry);
        logger.warn('A held failure nears the end of its redrive window; reported', log);
      }
    }
    return problems;
  };

  /** Makes a transition; the winner counts and announces it. */
  const transition = async (
    machineArn: string,
    view: BreakerView,
    to: BreakerState,
    options: BreakerOptions,
    at: number,
    reason: string,
  ): Promise<boolean> => {
    const openings = to === 'open' ? openingsAfter(view, options, at) : undefined;
    const won = await store.transition(machineArn, view, to, at, { openings });
    logger.info(won ? 'Breaker moved' : 'Breaker moved by someone else first', {
      stateMachineArn: machineArn,
      breaker: view.state,
      to,
      reason,
    });
    if (!won) return false;
    if (to === 'open') {
      countMetric(metrics, BRAKE_METRIC.opened);
      await deps.notify(breakerOpenedNotice(machineArn, view, options, at, openings));
    } else if (to === 'closed') {
      countMetric(metrics, BRAKE_METRIC.closed);
      await deps.notify(
        breakerClosedNotice(
          machineArn,
          view,
          options,
          at,
          reason === 'nothing-held'
            ? 'nothing-held'
            : options.enabled
              ? 'probe-recovered'
              : 'breaker-disabled',
        ),
      );
    }
    return true;
  };

  const sendProbes = async (machineArn: string, options: BreakerOptions): Promise<string[]> => {
    const probes = await store.oldestHeld(machineArn, options.probes);
    const { sent, unsent } = await resend(machineArn, probes, true);
    for (const held of sent) {
      countMetric(metrics, BRAKE_METRIC.probe);
      logger.info('Probe sent', { executionArn: held.executionArn, breaker: 'half-open' });
    }
    return unsent.map((u) => `probe ${u.held.executionArn} was not sent (${u.errorName})`);
  };

  const drain = async (
    machineArn: string,
    deadline: number,
  ): Promise<{ problems: string[]; done: boolean }> => {
    const problems: string[] = [];
    let resent = 0;
    const skip = new Set<string>();
    while (resent < drainLimit && now() < deadline) {
      const page = (await store.oldestHeld(machineArn, DRAIN_PAGE + skip.size)).filter(
        (h) => !skip.has(`${h.stopDate}#${h.executionArn}`),
      );
      // Done only when nothing is held at all: a failure SQS refused is still held, and still watched.
      if (page.length === 0) return { problems, done: skip.size === 0 };
      const { sent, unsent } = await resend(machineArn, page.slice(0, drainLimit - resent), false);
      resent += sent.length;
      for (let i = 0; i < sent.length; i++) countMetric(metrics, BRAKE_METRIC.resent);
      for (const u of unsent) {
        skip.add(`${u.held.stopDate}#${u.held.executionArn}`);
        problems.push(`held ${u.held.executionArn} was not re-sent (${u.errorName})`);
      }
      if (sent.length === 0) break; // Nothing got through: SQS is unwell; the next run tries again.
    }
    logger.info('Re-sent held failures', {
      stateMachineArn: machineArn,
      breaker: 'closed',
      resent,
    });
    return { problems, done: false };
  };

  const keepMachine = async (
    machineArn: string,
    deadline: number,
    probing: Set<string>,
  ): Promise<string[]> => {
    const startedAt = now();
    const options = deps.optionsFor(machineArn);
    let view = await store.read(machineArn, startedAt, { fresh: true });
    let verdict = evaluateBreaker(view, options, startedAt);
    const problems = await reportExpiring(machineArn, verdict.state, startedAt);

    if (verdict.transition === 'half-open') {
      const anyHeld = (await store.oldestHeld(machineArn, 1)).length > 0;
      if (view.state === 'half-open' && !anyHeld) {
        // Probes unsettled for a cool-down and nothing left to protect: close.
        await transition(machineArn, view, 'closed', options, startedAt, 'nothing-held');
      } else if (
        await transition(machineArn, view, 'half-open', options, startedAt, verdict.reason)
      ) {
        problems.push(...(await sendProbes(machineArn, options)));
      }
    } else if (verdict.transition !== undefined) {
      // Normally the redrive handler's (on a signal); made here too, so a lost one is not waited for forever.
      await transition(machineArn, view, verdict.transition, options, startedAt, verdict.reason);
    }
    if (verdict.transition !== undefined) {
      view = await store.read(machineArn, now(), { fresh: true });
      verdict = evaluateBreaker(view, options, now());
    }

    if (verdict.state === 'half-open') probing.add(machineArn);
    let drained = false;
    if (verdict.state === 'closed') {
      const result = await drain(machineArn, deadline);
      problems.push(...result.problems);
      drained = result.done;
    }
    gauge(machineArn, verdict.state);
    logger.info('Breaker kept', {
      stateMachineArn: machineArn,
      breaker: verdict.state,
      computed: view.state,
      forced: view.forced,
      reason: verdict.reason,
    });
    if (drained && view.state === 'closed' && view.forced === undefined) {
      const removed = await store.unwatch(machineArn, startedAt - REGISTRY_RACE_MARGIN_MS);
      if (removed)
        logger.info('Breaker closed with nothing held; no longer watched', {
          stateMachineArn: machineArn,
        });
    }
    return problems;
  };

  /**
   * Watches half-open breakers until their probes settle or `until`: a breaker
   * the handler closed meanwhile has its backlog re-sent at once, one that
   * opened again is left to its cool-down.
   */
  const awaitProbes = async (probing: Set<string>, until: number): Promise<string[]> => {
    const problems: string[] = [];
    // Counted as well as timed: a clock that stands still (a test's) must not keep it here.
    for (
      let poll = 0;
      probing.size > 0 && poll < PROBE_WAIT_MS / PROBE_POLL_MS && now() + PROBE_POLL_MS < until;
      poll++
    ) {
      await sleep(PROBE_POLL_MS);
      for (const machineArn of [...probing]) {
        try {
          const at = now();
          const view = await store.read(machineArn, at, { fresh: true });
          const { state } = evaluateBreaker(view, deps.optionsFor(machineArn), at);
          if (state === 'half-open') continue;
          probing.delete(machineArn);
          if (state === 'closed') problems.push(...(await drain(machineArn, until)).problems);
        } catch (error) {
          probing.delete(machineArn);
          problems.push(`${nameOf(machineArn)}: ${awsErrorName(error)} while awaiting its probes`);
        }
      }
    }
    return problems;
  };

  return async (_event?: unknown, context?: BrakeKeeperContext): Promise<void> => {
    const startedAt = now();
    const deadline = context
      ? startedAt + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS
      : Number.POSITIVE_INFINITY;
    const problems: string[] = [];
    try {
      const machines = await store.machinesToWatch();
      const probing = new Set<string>();
      for (const machineArn of machines) {
        if (now() >= deadline) {
          problems.push(
            `${machines.length - machines.indexOf(machineArn)} machines left for the next run`,
          );
          break;
        }
        try {
          problems.push(...(await keepMachine(machineArn, deadline, probing)));
        } catch (error) {
          problems.push(
            `${nameOf(machineArn)}: ${awsErrorName(error)} (${(error as Error)?.message})`,
          );
          logger.error('Could not keep the breaker; the next run tries again', {
            stateMachineArn: machineArn,
            error: error as Error,
          });
        }
      }
      problems.push(...(await awaitProbes(probing, Math.min(deadline, startedAt + PROBE_WAIT_MS))));
      if (deps.flushDigests) {
        try {
          await deps.flushDigests(now());
        } catch (error) {
          problems.push(`notice digests were not flushed (${awsErrorName(error)})`);
          logger.error('Could not flush the notice digests; the next run tries again', {
            error: error as Error,
          });
        }
      }
    } finally {
      flushMetrics(metrics);
    }
    if (problems.length > 0) throw new BrakeKeeperIncompleteError(problems);
  };
}
