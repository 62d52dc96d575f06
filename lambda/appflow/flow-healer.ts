/**
 * The AppFlow flow healer, built from injected clients so tests can drive it
 * against mocks, DynamoDB Local or a local AWS endpoint.
 *
 * Per SQS record: parse and validate the AppFlow event (a bad or out-of-scope
 * one is parked with its reason, no AWS call), decide with the pure functions
 * of heal-decision.ts, then act:
 *
 * - a failed OnDemand run: defer until its delay has passed, then run the one
 *   idempotent action for that run: re-run the flow (recording the re-run's
 *   lineage, so its own failure counts towards `maxReruns`), or give up with a
 *   notice;
 * - a deactivated scheduled flow: defer until the cool-down has passed, then
 *   run the one idempotent action for that deactivation: re-activate the flow
 *   (with a notice), or give up or skip with a notice.
 */
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AppflowClient } from '@aws-sdk/client-appflow';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { underlyingErrorName } from '../shared/aws-errors';
import {
  type AppflowHandlerConfig,
  flowsInScope,
  MAX_REACTIVATION_COOLDOWN_MINUTES,
} from '../shared/config/appflow-config';
import { MAX_DELAY_SECONDS } from '../shared/config/common';
import { idempotencyKeyPrefixes } from '../shared/contract';
import { InvalidInputError } from '../shared/errors';
import { autohealIdempotencyConfig, type MaybeReplayed } from '../shared/idempotency';
import { countMetric } from '../shared/metrics';
import { type NoticeSender, plainNoticeSender } from '../shared/notice-digest';
import type { Notice } from '../shared/notices';
import { deferralLimit } from '../shared/sqs-buffer';
import {
  type BufferedHealerDeps,
  createSqsEventHandler,
  deferOrPark,
} from '../shared/sqs-event-handler';
import { describeFlow, flowClientToken, startFlow } from './flow-api';
import {
  type FlowDeactivated,
  type FlowEvent,
  type FlowRunEnded,
  parseFlowEvent,
} from './flow-run-event';
import {
  decideReactivation,
  decideReactivationTiming,
  decideRerun,
  rerunIgnored,
} from './heal-decision';
import { HealingStateStore } from './healing-state';

export interface FlowHealerDeps extends BufferedHealerDeps {
  /**
   * The installation's idempotency key prefix (`AUTOHEAL_IDEMPOTENCY_KEY_PREFIX`).
   * @default 'autoheal' (the app's, and every record's before installations had prefixes)
   */
  readonly idempotencyKeyPrefix?: string;
  readonly config: AppflowHandlerConfig;
  readonly appflow: AppflowClient;
  /**
   * The AppFlow client to call about a flow with: `appflow`, or one signing
   * with the credentials of the scope role that holds the flow's grants,
   * when the flows outgrow the function's role (see
   * lambda/shared/scope-role-clients.ts).
   * @default - `appflow` for every flow
   */
  readonly appflowFor?: (flowName: string) => AppflowClient;
  /** Client of the idempotency table, where the healing state (lineage, re-activations) is kept. */
  readonly dynamodb: DynamoDBClient;
  /** Name of the idempotency table (the persistence store's table). */
  readonly idempotencyTable: string;
  /**
   * Sends the healer's notices, at once or into digests.
   * @default every notice published on its own (`plainNoticeSender`)
   */
  readonly notices?: NoticeSender;
}

/** The idempotent unit of work: what to do about one failed run or one deactivation. Plain JSON. */
export type HealAction =
  | {
      /** `rerun#EXECUTION_ID`: one action per failed run. */
      readonly idempotencyKey: string;
      readonly action: 'rerun';
      readonly flowName: string;
      readonly executionId: string;
      readonly originExecutionId: string;
      readonly rerunNumber: number;
    }
  | {
      /** `rerun#EXECUTION_ID`: one action per failed run. */
      readonly idempotencyKey: string;
      readonly action: 'give-up-reruns';
      readonly flowName: string;
      readonly executionId: string;
      readonly originExecutionId: string;
      readonly reruns: number;
      readonly detail: string;
    }
  | {
      /** `reactivate#FLOW#EVENT_ID`: one action per deactivation. */
      readonly idempotencyKey: string;
      readonly action: 'reactivate';
      readonly flowName: string;
      readonly eventId: string;
      readonly deactivatedAt: number;
    };

/** What happened; stored in the idempotency record. Plain JSON: no Date, no undefined values. */
export interface HealOutcome extends MaybeReplayed {
  readonly outcome: 'rerun-started' | 'failed' | 'gave-up' | 'reactivated' | 'ignored' | 'skipped';
  readonly reason?: string;
  /** The re-run's execution id. */
  readonly executionId?: string;
  readonly rerunNumber?: number;
  /** Bookkeeping after a successful re-activation that did not complete (logged as errors). */
  readonly incomplete?: string[];
}

/** This handler's metric names; the dashboard graphs them (test/unit/dashboard-metrics.test.ts). */
export const METRIC = {
  rerun: 'FlowRerun',
  reactivated: 'FlowReactivated',
  gaveUp: 'GaveUp',
  skipped: 'Skipped',
  deferred: 'Deferred',
  ignored: 'Ignored',
  duplicate: 'DuplicateDelivery',
} as const;

const HOUR_SECONDS = 3600;

/**
 * Deferral hops one message may take ({@link deferralLimit}): the longest wait is
 * the re-activation cool-down (up to 24 h), longer than any re-run delay (12 h).
 */
export const FLOW_HEALER_DEFERRAL_LIMIT = deferralLimit(
  Math.max(MAX_DELAY_SECONDS, MAX_REACTIVATION_COOLDOWN_MINUTES * 60),
);

/**
 * Builds the SQS batch handler of the AppFlow flow healer.
 *
 * @example
 * ```ts
 * export const handler = createFlowHealerHandler({ config, appflow, sns, sqs, dynamodb, ... });
 * ```
 */
export function createFlowHealerHandler(
  deps: FlowHealerDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { config, sns, sqs, logger, metrics } = deps;
  const appflowFor = deps.appflowFor ?? (() => deps.appflow);
  const policy = config.healing;
  const now = deps.now ?? Date.now;
  const inScope = new Set(flowsInScope(config));
  const prefixes = idempotencyKeyPrefixes(deps.idempotencyKeyPrefix);
  const state = new HealingStateStore(deps.dynamodb, deps.idempotencyTable, now, prefixes);

  const idempotencyConfig = autohealIdempotencyConfig('idempotencyKey');
  const notices = deps.notices ?? plainNoticeSender(sns, deps.noticeTopicArn);
  /** `example`: the run id or deactivation event id a digest may list for the notice. */
  const notify = (notice: Notice, example: string) => notices.send(notice, example, now());

  const rerun = async (request: Extract<HealAction, { action: 'rerun' }>): Promise<HealOutcome> => {
    const { flowName, executionId, originExecutionId, rerunNumber } = request;
    const result = await startFlow(
      appflowFor(flowName),
      flowName,
      flowClientToken(originExecutionId, 'rerun', String(rerunNumber)),
    );
    if (result.outcome === 'refused') {
      await notify(
        {
          kind: 'flow-rerun-failed',
          reason: 'start-flow-refused',
          subject: `Autoheal could not re-run AppFlow flow ${flowName}`,
          facts: {
            flowName,
            executionId,
            originExecutionId,
            rerunNumber,
            detail: `StartFlow answered ${result.errorName}`,
          },
        },
        executionId,
      );
      return { outcome: 'failed', reason: `start-flow-refused:${result.errorName}` };
    }
    // Without its lineage, the re-run's failure would start a fresh count: so a failed
    // write throws, and the retry's StartFlow (same client token) returns the same run.
    // No execution id means StartFlow only activated the flow: not an OnDemand run to follow.
    if (result.executionId === undefined) return { outcome: 'rerun-started', rerunNumber };
    await state.putRerunLineage(result.executionId, originExecutionId, rerunNumber);
    return { outcome: 'rerun-started', executionId: result.executionId, rerunNumber };
  };

  const giveUpReruns = async (
    request: Extract<HealAction, { action: 'give-up-reruns' }>,
  ): Promise<HealOutcome> => {
    const { flowName, executionId, originExecutionId, reruns, detail } = request;
    await notify(
      {
        kind: 'flow-rerun-gave-up',
        reason: 'max-reruns',
        subject: `Autoheal gave up re-running AppFlow flow ${flowName}`,
        facts: { flowName, executionId, originExecutionId, reruns, detail },
      },
      executionId,
    );
    return { outcome: 'gave-up', reason: 'max-reruns' };
  };

  const reactivate = async (
    request: Extract<HealAction, { action: 'reactivate' }>,
  ): Promise<HealOutcome> => {
    const { flowName, eventId } = request;
    const deactivatedAt = new Date(request.deactivatedAt).toISOString();
    const flow = await describeFlow(appflowFor(flowName), flowName);
    const recentReactivations = flow ? await state.getRecentReactivations(flowName) : [];
    const decision = decideReactivation(flow, recentReactivations, policy, now());
    switch (decision.action) {
      case 'skip':
        await notify(
          {
            kind: 'flow-reactivation-skipped',
            reason: decision.reason,
            subject: `Autoheal will not re-activate AppFlow flow ${flowName}`,
            facts: { flowName, deactivatedAt, eventId, detail: decision.detail },
          },
          eventId,
        );
        return { outcome: 'skipped', reason: decision.reason };
      case 'ignore':
        return { outcome: 'ignored', reason: decision.reason };
      case 'give-up':
        await notify(
          {
            kind: 'flow-reactivation-gave-up',
            reason: decision.reason,
            subject: `Autoheal gave up re-activating AppFlow flow ${flowName}`,
            facts: {
              flowName,
              deactivatedAt,
              eventId,
              reactivations: decision.recent,
              windowHours: policy.reactivationWindowHours,
              detail: decision.detail,
            },
          },
          eventId,
        );
        return { outcome: 'gave-up', reason: decision.reason };
      default:
        break;
    }
    const result = await startFlow(
      appflowFor(flowName),
      flowName,
      flowClientToken(flowName, 'reactivate', eventId),
    );
    if (result.outcome === 'refused') {
      await notify(
        {
          kind: 'flow-reactivation-failed',
          reason: 'start-flow-refused',
          subject: `Autoheal could not re-activate AppFlow flow ${flowName}`,
          facts: {
            flowName,
            deactivatedAt,
            eventId,
            detail: `StartFlow answered ${result.errorName}`,
          },
        },
        eventId,
      );
      return { outcome: 'failed', reason: `start-flow-refused:${result.errorName}` };
    }
    // The flow is Active now, so a retry of this action would only find it active and
    // ignore it: what follows is best effort, and a failure is reported, not thrown.
    const incomplete: string[] = [];
    try {
      await state.recordReactivation(
        flowName,
        Math.floor(now() / 1000),
        policy.reactivationWindowHours * HOUR_SECONDS,
      );
    } catch (error) {
      incomplete.push(`re-activation not recorded (${underlyingErrorName(error)})`);
    }
    try {
      await notify(
        {
          kind: 'flow-reactivated',
          reason: 'scheduled-flow-deactivated',
          subject: `Autoheal re-activated AppFlow flow ${flowName}`,
          facts: {
            flowName,
            deactivatedAt,
            eventId,
            previousStatus: flow?.flowStatus,
            reactivations: decision.recent + 1,
            maxReactivations: policy.maxReactivations,
            windowHours: policy.reactivationWindowHours,
          },
        },
        eventId,
      );
    } catch (error) {
      incomplete.push(`notice not sent (${underlyingErrorName(error)})`);
    }
    return { outcome: 'reactivated', ...(incomplete.length > 0 && { incomplete }) };
  };

  /** The side effect for one failed run or one deactivation. Runs at most once per key. */
  const act = (request: HealAction): Promise<HealOutcome> => {
    switch (request.action) {
      case 'rerun':
        return rerun(request);
      case 'give-up-reruns':
        return giveUpReruns(request);
      default:
        return reactivate(request);
    }
  };

  const actOnce = makeIdempotent(act, {
    persistenceStore: deps.persistenceStore,
    config: idempotencyConfig,
    keyPrefix: prefixes.flowHeal,
  });

  const countOutcome = (result: HealOutcome, log: Logger): void => {
    // `executionId` of the log keys is the run the event reports; the result's is the re-run's.
    const { executionId: startedExecutionId, ...rest } = result;
    log.info(result.replayed ? 'Duplicate delivery; already handled' : 'Handled', {
      ...rest,
      ...(startedExecutionId !== undefined && { startedExecutionId }),
    });
    if (result.replayed) {
      countMetric(metrics, METRIC.duplicate);
      return;
    }
    for (const problem of result.incomplete ?? []) {
      log.error(`Flow re-activated, but ${problem}`);
    }
    const reason = result.reason ?? 'unknown';
    switch (result.outcome) {
      case 'rerun-started':
        countMetric(metrics, METRIC.rerun);
        return;
      case 'reactivated':
        countMetric(metrics, METRIC.reactivated);
        return;
      case 'gave-up':
        countMetric(metrics, METRIC.gaveUp, reason);
        return;
      case 'ignored':
        countMetric(metrics, METRIC.ignored);
        return;
      default:
        countMetric(metrics, METRIC.skipped, reason);
    }
  };

  const defer = async (
    record: SQSRecord,
    decision: { dueAt: number; delaySeconds: number },
    log: Logger,
    what: string,
  ): Promise<void> => {
    const hopSeconds = await deferOrPark(deps, record, log, decision, FLOW_HEALER_DEFERRAL_LIMIT);
    if (hopSeconds === undefined) return;
    log.info(`Deferred until ${what}`, {
      decision: 'defer',
      dueAt: new Date(decision.dueAt).toISOString(),
      hopSeconds,
    });
    countMetric(metrics, METRIC.deferred);
  };

  const ignore = (decision: { reason: string; detail: string }, log: Logger): void => {
    log.info('Ignored', { decision: 'ignore', reason: decision.reason, detail: decision.detail });
    countMetric(metrics, METRIC.ignored);
  };

  const handleRunEnded = async (
    run: FlowRunEnded,
    record: SQSRecord,
    log: Logger,
  ): Promise<void> => {
    // Runs that need no re-run are settled without reading the lineage.
    const ignored = rerunIgnored(run, policy);
    if (ignored) return ignore(ignored, log);
    const lineage = await state.getRerunLineage(run.executionId);
    const rerunsSoFar = lineage?.rerunNumber ?? 0;
    const originExecutionId = lineage?.originExecutionId ?? run.executionId;
    const decision = decideRerun(run, policy, rerunsSoFar, originExecutionId, now());
    switch (decision.action) {
      case 'ignore':
        return ignore(decision, log);
      case 'defer':
        return defer(record, decision, log, 'the re-run delay has passed');
      case 'rerun':
        return countOutcome(
          await actOnce({
            idempotencyKey: `rerun#${run.executionId}`,
            action: 'rerun',
            flowName: run.flowName,
            executionId: run.executionId,
            originExecutionId,
            rerunNumber: decision.rerunNumber,
          }),
          log,
        );
      default:
        return countOutcome(
          await actOnce({
            idempotencyKey: `rerun#${run.executionId}`,
            action: 'give-up-reruns',
            flowName: run.flowName,
            executionId: run.executionId,
            originExecutionId,
            reruns: rerunsSoFar,
            detail: decision.detail,
          }),
          log,
        );
    }
  };

  const handleDeactivated = async (
    event: FlowDeactivated,
    record: SQSRecord,
    log: Logger,
  ): Promise<void> => {
    const timing = decideReactivationTiming(event, policy, now());
    switch (timing.action) {
      case 'ignore':
        return ignore(timing, log);
      case 'defer':
        return defer(record, timing, log, 'the re-activation cool-down has passed');
      default:
        return countOutcome(
          await actOnce({
            idempotencyKey: `reactivate#${event.flowName}#${event.eventId}`,
            action: 'reactivate',
            flowName: event.flowName,
            eventId: event.eventId,
            deactivatedAt: event.deactivatedAt,
          }),
          log,
        );
    }
  };

  return createSqsEventHandler<FlowEvent>({
    parse: (record) => {
      const event = parseFlowEvent(record.body, now());
      if (!inScope.has(event.flowName)) {
        throw new InvalidInputError(
          'detail.flow-name',
          'is not a flow Autoheal was deployed to heal',
        );
      }
      return event;
    },
    logKeys: (event) => ({
      correlation_id: event.eventId,
      flowName: event.flowName,
      ...(event.kind === 'run-ended' && { executionId: event.executionId }),
    }),
    handle: (event, record, log) =>
      event.kind === 'run-ended'
        ? handleRunEnded(event, record, log)
        : handleDeactivated(event, record, log),
    sqs,
    deadLetterQueueUrl: deps.deadLetterQueueUrl,
    maxReceiveCount: deps.maxReceiveCount,
    logger,
    metrics,
    idempotencyConfig,
  });
}
