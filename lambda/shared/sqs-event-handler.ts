/**
 * The SQS batch handler every Autoheal healer runs on. Per record:
 *
 * 1. parse and validate; invalid input is parked in the dead-letter queue with
 *    the field and problem, and no AWS call is made for it;
 * 2. handle; a failure is reported as a batch item failure so SQS redelivers
 *    it, except on the work queue's last allowed receive, where the message is
 *    parked with the error as its reason instead of vanishing into the DLQ
 *    without one.
 *
 * Records of a batch are processed concurrently; one record's failure never
 * affects another's.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import {
  IdempotencyAlreadyInProgressError,
  type IdempotencyConfig,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { withCallDeadline } from './aws-call';
import { underlyingErrorName } from './aws-errors';
import { InvalidInputError } from './errors';
import { countMetric, flushMetrics } from './metrics';
import { DEFERRAL_LIMIT_REASON, deferWithinLimit, parkMessage } from './sqs-buffer';
import { invocationDeadline, invocationEnd } from './throttle-patience';

/** Metric names every SQS-driven handler emits. */
export const BUFFER_METRICS = {
  invalid: 'InvalidEvent',
  parked: 'Parked',
  retryable: 'RetryableError',
} as const;

/** What every SQS-driven healer is built from, besides its own service clients and config. */
export interface BufferedHealerDeps {
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly persistenceStore: BasePersistenceLayer;
  readonly noticeTopicArn: string;
  /** The queue the healer drains; deferred work is re-sent to it. */
  readonly workQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The work queue's maxReceiveCount: on that receive a still-failing message is parked. */
  readonly maxReceiveCount: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Epoch milliseconds; injectable for tests. @default Date.now */
  readonly now?: () => number;
}

export interface SqsEventHandlerOptions<T> {
  /** Parses a record; throws {@link InvalidInputError} naming the field for bad input. */
  readonly parse: (record: SQSRecord) => T;
  /** Keys added to every log line about this event (correlation id first). */
  readonly logKeys: (event: T) => Record<string, string>;
  /**
   * Handles one valid event. Throw to have it retried. `deadline` (epoch ms) is
   * when work on it should stop so the outcome can still be recorded in time.
   */
  readonly handle: (event: T, record: SQSRecord, log: Logger, deadline: number) => Promise<void>;
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** The work queue's maxReceiveCount: on that receive a still-failing message is parked. */
  readonly maxReceiveCount: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Registered with each invocation's context, so a timed-out attempt never blocks the retry. */
  readonly idempotencyConfig: IdempotencyConfig;
}

/**
 * Builds an SQS batch handler with partial batch failures.
 *
 * @example
 * ```ts
 * export const handler = createSqsEventHandler({
 *   parse: (record) => parseMyEvent(record.body),
 *   logKeys: (event) => ({ correlation_id: event.id }),
 *   handle: async (event, record, log) => { ... },
 *   sqs, deadLetterQueueUrl, maxReceiveCount, logger, metrics, idempotencyConfig,
 * });
 * ```
 */
export function createSqsEventHandler<T>(
  options: SqsEventHandlerOptions<T>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const { sqs, deadLetterQueueUrl, logger, metrics } = options;

  /**
   * Handles one record. Its AWS calls end by `deadline`; the calls that record
   * an outcome after a failure (parking) by `end`, so a call cut short at the
   * deadline still leaves time to park the message on its last receive.
   */
  const processRecord = async (record: SQSRecord, deadline: number, end: number): Promise<void> => {
    let event: T;
    try {
      event = options.parse(record);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      await withCallDeadline(end, () =>
        parkMessage(
          sqs,
          deadLetterQueueUrl,
          record,
          `invalid-event: ${error.message}`,
          error.field,
        ),
      );
      logger.warn('Invalid event parked in the dead-letter queue', {
        messageId: record.messageId,
        field: error.field,
        problem: error.problem,
      });
      countMetric(metrics, BUFFER_METRICS.invalid);
      return;
    }

    const log = logger.createChild({ persistentKeys: options.logKeys(event) });
    try {
      await withCallDeadline(deadline, () => options.handle(event, record, log, deadline));
    } catch (error) {
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      const errorName = underlyingErrorName(error);
      if (receiveCount >= options.maxReceiveCount) {
        await withCallDeadline(end, () =>
          parkMessage(
            sqs,
            deadLetterQueueUrl,
            record,
            `retries-exhausted after ${receiveCount} receives: ${errorName}: ${(error as Error).message}`,
          ),
        );
        log.error('Retries exhausted; event parked in the dead-letter queue', { error });
        countMetric(metrics, BUFFER_METRICS.parked);
        return;
      }
      // A concurrent duplicate holds the idempotency record: retry later, when its result is stored.
      const reason =
        error instanceof IdempotencyAlreadyInProgressError ? 'in-progress-elsewhere' : errorName;
      log.warn('Will retry', { reason, receiveCount, error });
      countMetric(metrics, BUFFER_METRICS.retryable);
      throw error;
    }
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    options.idempotencyConfig.registerLambdaContext(context);
    const startedAt = Date.now();
    const remainingMs = context.getRemainingTimeInMillis();
    const deadline = invocationDeadline(startedAt, remainingMs);
    const end = invocationEnd(startedAt, remainingMs);
    const processOne = (record: SQSRecord) => processRecord(record, deadline, end);
    try {
      return await processPartialResponse(event, processOne, new BatchProcessor(EventType.SQS), {
        context,
        throwOnFullBatchFailure: false,
      });
    } finally {
      flushMetrics(metrics);
    }
  };
}

/**
 * Defers a record until `dueAt` (one SQS delay hop), or, past `limit` hops,
 * parks it with reason `deferral-limit`, logged and counted as `Parked`.
 * Returns the hop taken in seconds, or undefined when the record was parked.
 *
 * @param extraAttributes message attributes the hop carries besides the provenance ones
 * @example
 * ```ts
 * const hop = await deferOrPark(deps, record, log, decision, REDRIVE_DEFERRAL_LIMIT);
 * if (hop !== undefined) log.info('Deferred', { hopSeconds: hop });
 * ```
 */
export async function deferOrPark(
  deps: Pick<BufferedHealerDeps, 'sqs' | 'workQueueUrl' | 'deadLetterQueueUrl' | 'metrics'>,
  record: SQSRecord,
  log: Logger,
  decision: { readonly dueAt: number; readonly delaySeconds: number },
  limit: number,
  extraAttributes: Readonly<Record<string, string>> = {},
): Promise<number | undefined> {
  const deferral = await deferWithinLimit(
    deps.sqs,
    deps,
    record,
    decision.delaySeconds,
    limit,
    extraAttributes,
  );
  if (deferral.outcome === 'deferred') return deferral.hopSeconds;
  log.error('Deferred too often; parked in the dead-letter queue', {
    decision: 'park',
    reason: DEFERRAL_LIMIT_REASON,
    deferrals: deferral.deferrals,
    dueAt: new Date(decision.dueAt).toISOString(),
  });
  countMetric(deps.metrics, BUFFER_METRICS.parked, DEFERRAL_LIMIT_REASON);
  return undefined;
}
