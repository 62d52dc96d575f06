/**
 * The flow starter, built from injected clients so tests can drive it against
 * mocks and DynamoDB Local.
 *
 * EventBridge Scheduler invokes it asynchronously once per tick. Per tick:
 * parse and validate (a bad tick is parked in the dead-letter queue with its
 * reason, no AppFlow call: a retry could not fix it), then start each flow of
 * the tick, at most `maxConcurrentStarts` at a time, each independently and at
 * most once per tick: describe, decide with the pure {@link decideStart}, then
 * start it or send a notice saying why not.
 *
 * A flow that could not be started for a transient reason fails the whole
 * invocation, so Lambda retries the tick; idempotency replays the flows that
 * were already handled, so the retry starts only the ones that were not.
 */
import {
  IdempotencyAlreadyInProgressError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { AppflowClient } from '@aws-sdk/client-appflow';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { withCallDeadline } from '../shared/aws-call';
import { underlyingErrorName } from '../shared/aws-errors';
import { mapWithConcurrency } from '../shared/concurrency';
import type { AppflowHandlerConfig } from '../shared/config/appflow-config';
import { idempotencyKeyPrefixes, type ScheduleTickInput } from '../shared/contract';
import { InvalidInputError, RetryableError } from '../shared/errors';
import { describeValue } from '../shared/fields';
import { autohealIdempotencyConfig, type MaybeReplayed } from '../shared/idempotency';
import { countMetric, flushMetrics } from '../shared/metrics';
import { type NoticeSender, plainNoticeSender } from '../shared/notice-digest';
import { parkBody } from '../shared/sqs-buffer';
import { invocationEnd } from '../shared/throttle-patience';
import { describeFlow, flowClientToken, startFlow } from './flow-api';
import { parseScheduleTick } from './schedule-tick';
import { decideStart } from './start-decision';

export interface FlowStarterDeps {
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
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly persistenceStore: BasePersistenceLayer;
  readonly noticeTopicArn: string;
  /** Where a tick that can never be processed is parked with its reason. */
  readonly deadLetterQueueUrl: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * Sends the skip and start-failure notices, at once or into digests.
   * @default every notice published on its own (`plainNoticeSender`)
   */
  readonly notices?: NoticeSender;
  /** The clock that picks a notice's digest window. @default Date.now */
  readonly now?: () => number;
}

/** The idempotent unit of work: start one flow for one tick. Plain JSON, never mutated. */
export interface FlowStartRequest {
  /** `flowName#scheduledTime`: one start per flow and tick, however often the tick arrives. */
  readonly idempotencyKey: string;
  readonly flowName: string;
  readonly schedule: string;
  readonly scheduledTime: string;
}

/** What happened to one flow of a tick; stored in the idempotency record. Plain JSON. */
export interface FlowStartResult extends MaybeReplayed {
  readonly flowName: string;
  readonly outcome: 'started' | 'skipped' | 'failed';
  /** The run AppFlow started, when `started`. */
  readonly executionId?: string;
  /** Why the flow was skipped or failed, e.g. `flow-suspended`, `start-refused:ConflictException`. */
  readonly reason?: string;
  /** The start did not happen for a reason a retry may fix; the tick is retried. Never stored. */
  readonly retrying?: boolean;
}

/** What the handler returns: the tick's results, or that the tick was parked. */
export type TickResult =
  | {
      readonly schedule: string;
      readonly scheduledTime: string;
      readonly results: readonly FlowStartResult[];
    }
  | { readonly parked: true; readonly reason: string };

/** This handler's metric names; the dashboard graphs them (test/unit/dashboard-metrics.test.ts). */
export const METRIC = {
  started: 'FlowStarted',
  skipped: 'FlowSkipped',
  failed: 'FlowStartFailed',
  duplicate: 'DuplicateTick',
  invalid: 'InvalidTick',
} as const;

/** Characters JSON leaves as they are but SQS refuses in a message body. */
const SQS_FORBIDDEN = /[\ufffe\uffff]/g;

/** The event as an SQS message body: its JSON, or a description when it has none. */
function eventBody(event: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(event);
  } catch {
    json = undefined;
  }
  return (json ?? JSON.stringify({ unserializableEvent: describeValue(event) })).replace(
    SQS_FORBIDDEN,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}

/**
 * Builds the asynchronous handler EventBridge Scheduler invokes once per tick.
 *
 * @example
 * ```ts
 * export const handler = createFlowStarterHandler({ config, appflow, sns, sqs, persistenceStore, ... });
 * ```
 */
export function createFlowStarterHandler(
  deps: FlowStarterDeps,
): (event: unknown, context: Context) => Promise<TickResult> {
  const { config, sns, sqs, logger, metrics } = deps;
  const appflowFor = deps.appflowFor ?? (() => deps.appflow);
  const idempotencyConfig = autohealIdempotencyConfig('idempotencyKey');
  const notices = deps.notices ?? plainNoticeSender(sns, deps.noticeTopicArn);
  const now = deps.now ?? Date.now;

  /** The side effect for one flow of one tick. Runs at most once per flow and tick. */
  const startFlowOfTick = async (request: FlowStartRequest): Promise<FlowStartResult> => {
    const { flowName, schedule, scheduledTime } = request;
    const decision = decideStart(await describeFlow(appflowFor(flowName), flowName));
    if (decision.action === 'skip') {
      await notices.send(
        {
          kind: 'flow-start-skipped',
          reason: decision.reason,
          subject: `Autoheal did not start flow ${flowName}`,
          facts: { flowName, schedule, scheduledTime, detail: decision.detail },
        },
        `${flowName}@${scheduledTime}`,
        now(),
      );
      return { flowName, outcome: 'skipped', reason: decision.reason };
    }
    const started = await startFlow(
      appflowFor(flowName),
      flowName,
      flowClientToken(flowName, scheduledTime),
    );
    if (started.outcome === 'started') {
      return {
        flowName,
        outcome: 'started',
        ...(started.executionId && { executionId: started.executionId }),
      };
    }
    const reason = `start-refused:${started.errorName}`;
    await notices.send(
      {
        kind: 'flow-start-failed',
        reason,
        subject: `Autoheal could not start flow ${flowName}`,
        facts: {
          flowName,
          schedule,
          scheduledTime,
          detail: `StartFlow answered ${started.errorName}; not retried`,
        },
      },
      `${flowName}@${scheduledTime}`,
      now(),
    );
    return { flowName, outcome: 'failed', reason };
  };

  const startOnce = makeIdempotent(startFlowOfTick, {
    persistenceStore: deps.persistenceStore,
    config: idempotencyConfig,
    keyPrefix: idempotencyKeyPrefixes(deps.idempotencyKeyPrefix).flowStart,
  });

  /** Starts one flow of the tick; never throws: a failure becomes a result marked `retrying`. */
  const startOne = async (
    tick: ScheduleTickInput,
    flowName: string,
    log: Logger,
  ): Promise<FlowStartResult> => {
    let result: FlowStartResult;
    try {
      result = await startOnce({
        idempotencyKey: `${flowName}#${tick.scheduledTime}`,
        flowName,
        schedule: tick.schedule,
        scheduledTime: tick.scheduledTime,
      });
    } catch (error) {
      // A concurrent duplicate of this tick holds the record: the retry replays its result.
      const reason =
        error instanceof IdempotencyAlreadyInProgressError
          ? 'in-progress-elsewhere'
          : underlyingErrorName(error);
      result = { flowName, outcome: 'failed', reason, retrying: true };
      log.warn('Flow not started; the tick will be retried for it', {
        ...result,
        replayed: false,
        error,
      });
      countMetric(metrics, METRIC.failed, reason);
      return result;
    }
    const keys = {
      flowName,
      outcome: result.outcome,
      executionId: result.executionId,
      reason: result.reason,
      replayed: result.replayed === true,
    };
    if (result.replayed) {
      log.info('Duplicate tick; flow already handled', keys);
      countMetric(metrics, METRIC.duplicate);
    } else if (result.outcome === 'started') {
      log.info('Flow started', keys);
      countMetric(metrics, METRIC.started);
    } else if (result.outcome === 'skipped') {
      log.info('Flow skipped', keys);
      countMetric(metrics, METRIC.skipped, result.reason ?? 'unknown');
    } else {
      log.warn('Flow start refused; not retried', keys);
      countMetric(metrics, METRIC.failed, result.reason ?? 'unknown');
    }
    return result;
  };

  const startTick = async (tick: ScheduleTickInput): Promise<TickResult> => {
    const log = logger.createChild({
      persistentKeys: {
        correlation_id: `${tick.schedule}@${tick.scheduledTime}`,
        schedule: tick.schedule,
        scheduledTime: tick.scheduledTime,
      },
    });
    const results = await mapWithConcurrency(tick.flows, config.maxConcurrentStarts, (flowName) =>
      startOne(tick, flowName, log),
    );
    const retrying = results.filter((result) => result.retrying === true);
    if (retrying.length > 0) {
      throw new RetryableError(
        `${retrying.length} of ${results.length} flows did not start (${retrying.map((r) => r.flowName).join(', ')}); ` +
          'Lambda retries the tick, which starts only those',
      );
    }
    return { schedule: tick.schedule, scheduledTime: tick.scheduledTime, results };
  };

  const park = async (
    event: unknown,
    error: InvalidInputError,
    context: Context,
  ): Promise<TickResult> => {
    const reason = `invalid-input: ${error.message}`;
    await parkBody(sqs, deps.deadLetterQueueUrl, eventBody(event), reason, error.field);
    logger.warn('Invalid tick parked in the dead-letter queue', {
      field: error.field,
      problem: error.problem,
      requestId: context.awsRequestId,
    });
    countMetric(metrics, METRIC.invalid);
    return { parked: true, reason };
  };

  const run = async (event: unknown, context: Context): Promise<TickResult> => {
    idempotencyConfig.registerLambdaContext(context);
    try {
      let tick: ScheduleTickInput;
      try {
        tick = parseScheduleTick(event, config);
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        // A retry cannot fix the input: park it with its reason instead of throwing.
        return await park(event, error, context);
      }
      return await startTick(tick);
    } finally {
      flushMetrics(metrics);
    }
  };
  // Every AWS call of the tick ends before the Lambda times out (see aws-call.ts).
  return (event: unknown, context: Context): Promise<TickResult> =>
    withCallDeadline(invocationEnd(Date.now(), context.getRemainingTimeInMillis()), () =>
      run(event, context),
    );
}
