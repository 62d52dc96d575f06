/**
 * The sweeper, built from injected clients so tests can drive it against
 * mocks, DynamoDB Local or a local AWS endpoint.
 *
 * Step Functions delivers its status-change events best effort. On a schedule
 * the sweeper lists the failed executions of the scoped state machines that
 * started inside the lookback (ListExecutions, newest first, paced to stay far
 * inside its quota), and puts each failure the redrive path has not handled
 * yet on the redrive work queue, as an EventBridge-shaped event from
 * `autoheal.sweeper`. From there the failure takes the same path as an event:
 * the same decision, the same idempotency key (`executionArn#redriveCount`),
 * so a failure both the rule and the sweeper found is redriven once.
 *
 * Before it enqueues a failure the sweeper reads the redrive path's own
 * idempotency record through the Powertools persistence layer, configured as
 * the redrive handler configures it, and skips the failure when there is one.
 * It also skips failures whose redrive is not due yet (the in-flight event
 * handles them; the next sweep catches them if it never lands), and failures
 * that stopped before their state machine came under live healing (the
 * live-healing clock's document, see `live-healing.ts`): on a first deploy,
 * after the scope widens or observe-only is switched off, the lookback is full
 * of failures nobody asked Autoheal to heal.
 *
 * A scope larger than one sweep can list (1,000 machines at 1 call a second
 * take 2,000 calls; a sweep has 270 s) is covered over consecutive sweeps: the
 * machines are visited in ARN order from a cursor kept in the idempotency
 * table, which also keeps two overlapping sweeps from sweeping at once (see
 * `sweep-cursor.ts`). Each sweep reports the minutes a finished pass took
 * (`SweepPassMinutes`) and warns when it took longer than the lookback.
 *
 * Limitation: listing stops at the first execution that started before the
 * lookback, so an execution that started before it but stopped (or was
 * redriven and failed again) inside it is left to its events.
 */

import { randomUUID } from 'node:crypto';
import type {
  BasePersistenceLayer,
  IdempotencyRecord,
} from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type ExecutionListItem,
  ListExecutionsCommand,
  type ListExecutionsCommandOutput,
  ListStateMachinesCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import { withCallDeadline } from '../shared/aws-call';
import { awsErrorName } from '../shared/aws-errors';
import { mapWithConcurrency } from '../shared/concurrency';
import {
  policyFor,
  type RedrivePolicy,
  STATE_MACHINE_ARN,
  type SweeperHandlerConfig,
} from '../shared/config/redrive-config';
import { scopeIndexOf } from '../shared/config/scope-index';
import { idempotencyKeyPrefixes, MESSAGE_ATTRIBUTES, SWEEPER_ORIGIN } from '../shared/contract';
import { flushMetrics } from '../shared/metrics';
import { type EntryFailure, sendMessageBatch } from '../shared/sqs-send-batch';
import { invocationEnd } from '../shared/throttle-patience';
import { documentForConfig, type LiveSinceDocument, liveSinceOf } from './live-healing';
import { redriveRecordReader } from './redrive-records';
import { createCursorStore, type SweepCursor, type SweepResume, sweepOrder } from './sweep-cursor';
import {
  createPacer,
  DEFAULT_DEADLINE_MARGIN_MS,
  DEFAULT_DUE_GRACE_MS,
  type ListedExecution,
  lookbackStartOf,
  planSweep,
  reachedLookbackStart,
  rotate,
  type SweptStatusChangeEvent,
  sweptStatusChange,
  sweptStatuses,
} from './sweep-plan';

export { DEFAULT_DEADLINE_MARGIN_MS };

/** The most executions one ListExecutions page holds. */
const PAGE_SIZE = 1000;
/** Idempotency records read at once. */
const CHECK_CONCURRENCY = 10;
/** SendMessageBatch takes at most 10 entries. */
const SEND_BATCH_SIZE = 10;
/** Attempts of a batch entry SQS did not accept for a reason on its side. */
const SEND_ATTEMPTS = 3;
const SEND_RETRY_BASE_MS = 200;

/** Listing errors that mean "nothing to sweep here", not "something is wrong". */
const MACHINE_GONE = new Set(['StateMachineDoesNotExist', 'StateMachineTypeNotSupported']);

/** This handler's metric names; the dashboard graphs them (test/unit/dashboard-metrics.test.ts). */
export const METRIC = {
  listed: 'SweepListed',
  enqueued: 'SweepEnqueued',
  alreadyHandled: 'SweepAlreadyHandled',
  notDue: 'SweepNotDue',
  beforeLiveHealing: 'SweepBeforeLiveHealing',
  truncated: 'SweepTruncated',
  failed: 'SweepFailed',
  overlapped: 'SweepOverlapped',
  passMinutes: 'SweepPassMinutes',
} as const;

/** What the sweeper is built from. */
export interface ExecutionSweeperDeps {
  /**
   * The installation's idempotency key prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`).
   * @default 'autoheal' (the app's, and every record's before installations had prefixes)
   */
  readonly idempotencyKeyPrefix?: string;
  /** The validated redrive config: scope, policies and `sweeper` options. */
  readonly config: SweeperHandlerConfig;
  readonly sfn: SFNClient;
  /**
   * The client to list a state machine's executions with: a scope role's for
   * the machines granted to one (see `scope-roles.ts`); ListStateMachines
   * always uses `sfn`.
   * @default - `sfn` for every machine
   */
  readonly sfnFor?: (stateMachineArn: string) => SFNClient;
  readonly sqs: SQSClient;
  /**
   * A persistence layer on the redrive path's idempotency table, used only by
   * the sweeper: it is configured here exactly as the redrive handler's.
   */
  readonly persistenceStore: BasePersistenceLayer;
  /**
   * The idempotency table, for the sweeper's cursor record
   * (`idempotencyKeyPrefixes(prefix).sweepCursor`, see `sweep-cursor.ts`).
   */
  readonly cursorTable: { readonly dynamodb: DynamoDBClient; readonly tableName: string };
  /** The redrive work queue. */
  readonly workQueueUrl: string;
  /**
   * Since when each scoped state machine has been under live healing (the
   * `AUTOHEAL_LIVE_SINCE` document): older failures are not enqueued.
   */
  readonly liveSince: LiveSinceDocument;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Waits; the pacer and the send retries use it. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Milliseconds before the Lambda deadline at which the sweeper stops listing
   * (it stops reading records at half of it); the rest is left to the next sweep.
   * @default 30000
   */
  readonly deadlineMarginMs?: number;
  /**
   * How long a failure's redrive must have been due before the sweeper enqueues it.
   * @default 900000 (15 minutes, {@link DEFAULT_DUE_GRACE_MS})
   */
  readonly dueGraceMs?: number;
}

/** The part of the Lambda context the sweeper reads. */
export interface SweepContext {
  getRemainingTimeInMillis(): number;
}

/** What one sweep did. Logged, returned, and the source of its metrics. */
export interface SweepSummary {
  /** State machines whose executions were listed (in full or, when truncated, in part). */
  readonly stateMachines: number;
  /** Executions listed that started inside the lookback. */
  readonly listed: number;
  /** Failures put on the work queue. */
  readonly enqueued: number;
  /** Failures the redrive path had already recorded. */
  readonly alreadyHandled: number;
  /** Failures whose redrive is not due yet (with the grace): left to their event. */
  readonly notDue: number;
  /** Executions listed that are not swept: stopped before the lookback or 14 days ago or more. */
  readonly outOfScope: number;
  /**
   * Failures not swept because they stopped before their state machine came
   * under live healing (first deploy, scope widened, observe-only switched off).
   */
  readonly beforeLiveHealing: number;
  /** The sweep stopped before the Lambda deadline; the next sweep covers the rest. */
  readonly truncated: boolean;
  /** Failures that could not be enqueued, and listings that failed. */
  readonly failed: number;
  /** Another sweep held the cursor: this one swept nothing. */
  readonly overlapped: boolean;
  /**
   * Minutes the pass over every scoped machine took, when this sweep finished
   * one (a pass spans as many sweeps as the scope needs).
   */
  readonly passMinutes?: number;
}

/** The sweep could not list or enqueue everything; the next sweep tries again. */
export class SweepIncompleteError extends Error {
  public override readonly name = 'SweepIncompleteError';

  public constructor(
    public readonly summary: SweepSummary,
    problems: readonly string[],
  ) {
    super(
      `The sweep did not finish: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. ` +
        'The next sweep tries again.',
    );
  }
}

/** A message on its way to the work queue. */
interface Outgoing {
  readonly event: SweptStatusChangeEvent;
  readonly entry: SendMessageBatchRequestEntry;
}

function outgoingEntry(id: string, event: SweptStatusChangeEvent): SendMessageBatchRequestEntry {
  return {
    Id: id,
    MessageBody: JSON.stringify(event),
    MessageAttributes: {
      [MESSAGE_ATTRIBUTES.origin]: { DataType: 'String', StringValue: SWEEPER_ORIGIN },
    },
  };
}

interface ScopedMachine {
  readonly arn: string;
  readonly name: string;
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

function listedExecution(
  item: ExecutionListItem,
  machine: ScopedMachine,
): ListedExecution | undefined {
  if (!item.executionArn || !item.startDate || !item.status) return undefined;
  return {
    executionArn: item.executionArn,
    stateMachineArn: machine.arn,
    name: item.name ?? item.executionArn.split(':').at(-1) ?? '',
    status: item.status,
    startDate: item.startDate.getTime(),
    stopDate: item.stopDate?.getTime(),
    redriveCount: item.redriveCount ?? 0,
    redriveDate: item.redriveDate?.getTime(),
  };
}

/**
 * Builds the sweeper: one call is one sweep.
 *
 * @returns a function of the Lambda context (only `getRemainingTimeInMillis`
 *   is read) that sweeps and resolves to its summary, or rejects with a
 *   {@link SweepIncompleteError} (carrying the summary) when a listing or an
 *   enqueue failed
 * @example
 * ```ts
 * const sweep = createExecutionSweeper({ config, sfn, sqs, persistenceStore, workQueueUrl, logger, metrics });
 * export const handler = (_event: unknown, context: Context) => sweep(context);
 * ```
 */
export function createExecutionSweeper(
  deps: ExecutionSweeperDeps,
): (context: SweepContext) => Promise<SweepSummary> {
  const { config, sfn, sqs, logger, metrics, persistenceStore } = deps;
  const sfnFor = deps.sfnFor ?? (() => sfn);
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const marginMs = deps.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS;
  const dueGraceMs = deps.dueGraceMs ?? DEFAULT_DUE_GRACE_MS;
  const { sweeper } = config;
  const scope = scopeIndexOf(config);
  const liveSinceDocument = documentForConfig(deps.liveSince, config);
  if (liveSinceDocument !== deps.liveSince) {
    logger.warn('The live-since document belongs to another config; no failure will be enqueued');
  }

  // Exactly as makeIdempotent configures the redrive handler's layer, so the record key cannot drift.
  const readRecord = redriveRecordReader(persistenceStore, deps.idempotencyKeyPrefix);

  /** True when the redrive path holds a live record for the failure (done or in progress). */
  const alreadyHandled = async (idempotencyKey: string, log: Logger): Promise<boolean> => {
    let record: IdempotencyRecord | undefined;
    try {
      record = await readRecord(idempotencyKey);
    } catch (error) {
      // Enqueuing costs one DescribeExecution; skipping might lose the failure.
      log.warn('Could not read the idempotency record; enqueuing the failure anyway', {
        errorName: awsErrorName(error),
      });
      return false;
    }
    return record !== undefined && !record.isExpired();
  };

  // Every AWS call of the sweep ends before the Lambda times out (see aws-call.ts).
  return (context: SweepContext): Promise<SweepSummary> =>
    withCallDeadline(invocationEnd(Date.now(), context.getRemainingTimeInMillis()), () =>
      sweep(context),
    );

  async function sweep(context: SweepContext): Promise<SweepSummary> {
    const startedAt = now();
    const lookbackStart = lookbackStartOf(startedAt, sweeper.lookbackHours);
    const pacer = createPacer({ requestsPerSecond: sweeper.requestsPerSecond, now, sleep });
    const counts = {
      stateMachines: 0,
      listed: 0,
      enqueued: 0,
      alreadyHandled: 0,
      notDue: 0,
      beforeLiveHealing: 0,
    };
    let outOfScope = 0;
    let failed = 0;
    let truncated = false;
    const problems: string[] = [];

    /** Whether a call that must wait `waitMs` first may still start. */
    const timeLeft = (reserveMs: number, waitMs = 0): boolean => {
      if (context.getRemainingTimeInMillis() - waitMs >= reserveMs) return true;
      truncated = true;
      return false;
    };

    /** Waits for the pacer's next slot; false when the deadline is too close for the call. */
    const pace = async (): Promise<boolean> => {
      if (!timeLeft(marginMs, pacer.msUntilNextSlot())) return false;
      await pacer.take();
      return true;
    };

    /** Paces a Step Functions list call; undefined when the deadline is too close to make it. */
    const paced = async <T>(call: () => Promise<T>): Promise<T | undefined> =>
      (await pace()) ? call() : undefined;

    const scopedMachines = async (): Promise<ScopedMachine[]> => {
      const machines = new Map<string, ScopedMachine>();
      for (const arn of config.stateMachineArns) {
        machines.set(arn, { arn, name: (STATE_MACHINE_ARN.exec(arn) as RegExpExecArray)[1] });
      }
      if (config.stateMachineNamePrefixes.length === 0) return [...machines.values()];
      let nextToken: string | undefined;
      try {
        do {
          const token = nextToken;
          const page = await paced(() =>
            sfn.send(new ListStateMachinesCommand({ maxResults: PAGE_SIZE, nextToken: token })),
          );
          if (!page) break;
          for (const machine of page.stateMachines ?? []) {
            const { stateMachineArn: arn, name, type } = machine;
            if (!arn || !name || type !== 'STANDARD') continue;
            if (scope.hasNamePrefixOf(name)) machines.set(arn, { arn, name });
          }
          nextToken = page.nextToken;
        } while (nextToken);
      } catch (error) {
        failed++;
        problems.push(`ListStateMachines failed (${awsErrorName(error)})`);
        logger.error('Could not list the state machines; sweeping those listed by ARN only', {
          error,
        });
      }
      return [...machines.values()];
    };

    const enqueued = (message: Outgoing, log: Logger): void => {
      counts.enqueued++;
      const { id, detail } = message.event;
      log.info('Enqueued a failure for the redrive path', {
        correlation_id: id,
        executionArn: detail.executionArn,
        status: detail.status,
        redriveCount: detail.redriveCount,
      });
    };

    const notEnqueued = (message: Outgoing, errorName: string, log: Logger): void => {
      failed++;
      const { id, detail } = message.event;
      problems.push(`${detail.executionArn} was not enqueued (${errorName})`);
      log.error('Could not enqueue a failure; the next sweep tries again', {
        correlation_id: id,
        executionArn: detail.executionArn,
        errorName,
      });
    };

    /** One SendMessageBatch call: the entries that failed, with their error and whether to retry them. */
    const sendAttempt = (messages: readonly Outgoing[]): Promise<Map<string, EntryFailure>> =>
      sendMessageBatch(
        sqs,
        deps.workQueueUrl,
        messages.map((m) => m.entry),
      );

    /** Sends up to 10 messages, retrying the entries SQS failed on its side. */
    const sendBatch = async (messages: readonly Outgoing[], log: Logger): Promise<void> => {
      let pending = messages;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const failures = await sendAttempt(pending);
        const retry: Outgoing[] = [];
        for (const message of pending) {
          const failure = failures.get(message.entry.Id as string);
          if (!failure) enqueued(message, log);
          else if (failure.retryable && attempt < SEND_ATTEMPTS) retry.push(message);
          else notEnqueued(message, failure.errorName, log);
        }
        pending = retry;
        if (pending.length > 0) await sleep(SEND_RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    };

    const enqueue = async (executions: readonly ListedExecution[], log: Logger): Promise<void> => {
      for (let i = 0; i < executions.length; i += SEND_BATCH_SIZE) {
        const messages = executions.slice(i, i + SEND_BATCH_SIZE).map((execution, index) => {
          const event = sweptStatusChange(execution, now());
          return { event, entry: outgoingEntry(`m${index}`, event) };
        });
        await sendBatch(messages, log);
      }
    };

    const sweepPage = async (
      executions: readonly ListedExecution[],
      policy: RedrivePolicy,
      liveSince: number | undefined,
      log: Logger,
    ): Promise<void> => {
      const window = { now: now(), lookbackStart, dueGraceMs };
      const candidates: { execution: ListedExecution; idempotencyKey: string }[] = [];
      for (const execution of executions) {
        const verdict = planSweep(execution, policy, window, liveSince);
        if (verdict.verdict === 'not-due') counts.notDue++;
        else if (verdict.verdict === 'out-of-scope' && verdict.beforeLiveHealing)
          counts.beforeLiveHealing++;
        else if (verdict.verdict === 'out-of-scope') outOfScope++;
        else candidates.push({ execution, idempotencyKey: verdict.idempotencyKey });
      }
      const unhandled = await mapWithConcurrency(candidates, CHECK_CONCURRENCY, async (c) => {
        if (!timeLeft(marginMs / 2)) return undefined;
        if (await alreadyHandled(c.idempotencyKey, log)) {
          counts.alreadyHandled++;
          return undefined;
        }
        return c.execution;
      });
      await enqueue(
        unhandled.filter((e): e is ListedExecution => e !== undefined),
        log,
      );
    };

    /**
     * Sweeps one machine, from `resume` when a sweep stopped inside it before.
     * @returns undefined when it was swept in full (or could not be listed:
     *   the pass moves on, and the error alarm says so), else where to pick it up
     */
    const sweepMachine = async (
      machine: ScopedMachine,
      resume: SweepResume | undefined,
    ): Promise<SweepResume | undefined> => {
      const policy = policyFor(config, machine.name);
      const log = logger.createChild({ persistentKeys: { stateMachine: machine.name } });
      const statuses = sweptStatuses(policy);
      // A resume for a status the policy no longer redrives is void: sweep the machine afresh.
      const resumeAt = resume ? statuses.indexOf(resume.status as (typeof statuses)[number]) : -1;
      let listedAny = false;
      for (const status of resumeAt === -1 ? statuses : statuses.slice(resumeAt)) {
        const liveSince = liveSinceOf(liveSinceDocument, config, machine, status);
        let nextToken = resumeAt !== -1 && status === resume?.status ? resume.nextToken : undefined;
        // Until the last page of the lookback; `continue` lists again from `nextToken`.
        for (;;) {
          const token = nextToken;
          const here: SweepResume = { arn: machine.arn, status, nextToken: token };
          // Outside the try: only the call's own errors are listing errors.
          if (!(await pace())) return here;
          let page: ListExecutionsCommandOutput;
          try {
            page = await sfnFor(machine.arn).send(
              new ListExecutionsCommand({
                stateMachineArn: machine.arn,
                statusFilter: status,
                maxResults: PAGE_SIZE,
                nextToken: token,
              }),
            );
          } catch (error) {
            const errorName = awsErrorName(error);
            if (MACHINE_GONE.has(errorName)) {
              log.warn('Nothing to sweep on this state machine', { reason: errorName });
              return undefined;
            }
            if (errorName === 'InvalidToken' && token !== undefined) {
              // A token kept by an earlier sweep, expired (they last 24 hours): from the first page.
              log.info('The saved page token expired; listing from the first page', { status });
              nextToken = undefined;
              continue;
            }
            failed++;
            problems.push(`ListExecutions of ${machine.name} (${status}) failed (${errorName})`);
            log.error('Could not list the executions; the next pass tries again', {
              status,
              error,
            });
            break;
          }
          listedAny = true;
          const executions = (page.executions ?? [])
            .map((item) => listedExecution(item, machine))
            .filter((e): e is ListedExecution => e !== undefined);
          const inLookback = executions.filter((e) => e.startDate >= lookbackStart);
          counts.listed += inLookback.length;
          await sweepPage(inLookback, policy, liveSince, log);
          // Cut short inside the page: the next sweep lists it again.
          if (truncated) return here;
          // Newest first: once a page reaches the lookback start, later pages are older still.
          nextToken = reachedLookbackStart(executions, lookbackStart) ? undefined : page.nextToken;
          if (!nextToken) break;
        }
      }
      if (listedAny) counts.stateMachines++;
      return undefined;
    };

    const cursorStore = createCursorStore({
      ...deps.cursorTable,
      key: idempotencyKeyPrefixes(deps.idempotencyKeyPrefix).sweepCursor,
      owner: randomUUID(),
      now,
    });
    let overlapped = false;
    let passMinutes: number | undefined;

    /** The cursor with this sweep's lease on it; undefined when the table cannot be read. */
    const acquireCursor = async (): Promise<SweepCursor | 'held' | undefined> => {
      try {
        return await cursorStore.acquire(now() + context.getRemainingTimeInMillis());
      } catch (error) {
        logger.warn('Could not read the sweep cursor; sweeping in rotation, without one', {
          errorName: awsErrorName(error),
        });
        return undefined;
      }
    };

    /** Sweeps the machines from the cursor on, advancing it after each; without one, in rotation. */
    const sweepFromCursor = async (cursor: SweepCursor | undefined): Promise<void> => {
      const machines = await scopedMachines();
      const order = cursor
        ? sweepOrder(machines, cursor)
        : {
            machines: rotate(machines, Math.floor(startedAt / (sweeper.periodMinutes * 60_000))),
            resume: undefined,
            passStart: -1,
          };
      const passEnd = (order.passStart - 1 + order.machines.length) % order.machines.length;
      let position: SweepCursor = cursor ?? {};
      let writing = cursor !== undefined;
      for (let k = 0; k < order.machines.length && !truncated; k++) {
        const machine = order.machines[k];
        const machineStartedAt = now();
        const resume = await sweepMachine(machine, k === 0 ? order.resume : undefined);
        if (!writing) continue;
        if (resume) {
          position = { ...position, resume };
        } else {
          const passStartedAt = k === order.passStart ? machineStartedAt : position.passStartedAt;
          const endsPass = k === passEnd && passStartedAt !== undefined;
          if (endsPass) passMinutes = Math.round((now() - passStartedAt) / 6_000) / 10;
          position = { after: machine.arn, passStartedAt: endsPass ? undefined : passStartedAt };
        }
        try {
          if (!(await cursorStore.advance(position))) {
            logger.warn('Another sweep took the cursor over; stopping here');
            overlapped = true;
            return;
          }
        } catch (error) {
          // Sweeping on is safe: the next sweep starts from the last position written.
          logger.warn('Could not advance the sweep cursor; the next sweep repeats these machines', {
            errorName: awsErrorName(error),
          });
          writing = false;
        }
      }
    };

    try {
      const cursor = await acquireCursor();
      if (cursor === 'held') {
        overlapped = true;
        logger.info('Another sweep holds the cursor; this one sweeps nothing');
      } else {
        try {
          await sweepFromCursor(cursor);
        } finally {
          if (cursor) await cursorStore.release().catch(() => undefined);
        }
      }

      const summary: SweepSummary = {
        ...counts,
        outOfScope,
        truncated,
        failed,
        overlapped,
        ...(passMinutes === undefined ? {} : { passMinutes }),
      };
      metrics.addMetric(METRIC.listed, MetricUnit.Count, summary.listed);
      metrics.addMetric(METRIC.enqueued, MetricUnit.Count, summary.enqueued);
      metrics.addMetric(METRIC.alreadyHandled, MetricUnit.Count, summary.alreadyHandled);
      metrics.addMetric(METRIC.notDue, MetricUnit.Count, summary.notDue);
      metrics.addMetric(METRIC.beforeLiveHealing, MetricUnit.Count, summary.beforeLiveHealing);
      metrics.addMetric(METRIC.truncated, MetricUnit.Count, truncated ? 1 : 0);
      metrics.addMetric(METRIC.failed, MetricUnit.Count, failed);
      metrics.addMetric(METRIC.overlapped, MetricUnit.Count, overlapped ? 1 : 0);
      if (passMinutes !== undefined) {
        metrics.addMetric(METRIC.passMinutes, MetricUnit.Count, passMinutes);
        if (passMinutes > sweeper.lookbackHours * 60) {
          logger.warn(
            'A pass over every scoped machine took longer than the lookback: failures may be missed. Raise sweeper.requestsPerSecond or lookbackHours, or narrow the scope',
            { passMinutes, lookbackHours: sweeper.lookbackHours },
          );
        }
      }
      if (truncated) {
        logger.warn(
          'The sweep stopped before the Lambda deadline; the next sweep covers the rest',
          { ...summary },
        );
      }
      if (problems.length > 0) {
        logger.error('The sweep did not finish', { ...summary, problems: problems.slice(0, 20) });
        throw new SweepIncompleteError(summary, problems);
      }
      logger.info('Sweep finished', { ...summary });
      return summary;
    } finally {
      flushMetrics(metrics);
    }
  }
}
