/**
 * What the handler suites in test/dynamodb wire a handler to: the account,
 * region, topic and queues of a test deployment, and the Powertools Logger and
 * Metrics of one Lambda execution environment, with every count it makes
 * recorded.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { boundByDeadline } from '../../lambda/shared/aws-call';
import { METRICS_NAMESPACE } from '../../lambda/shared/contract';
import type { BufferedHealerDeps } from '../../lambda/shared/sqs-event-handler';
import type { IdempotencyTable } from './idempotency-table';
import { type CountedMetric, watchMetrics } from './metrics';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-central-1';
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:autoheal-notices`;
/** The test deployment's `AUTOHEAL_STATES_ARN_PREFIX`: where name-prefix scope applies. */
export const STATES_ARN_PREFIX = `arn:aws:states:${REGION}:${ACCOUNT}:`;
/** The `maxReceiveCount` of every work queue the suites configure. */
export const MAX_RECEIVE_COUNT = 5;

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;

/** The URL of the named SQS queue of the test account and region. */
export function queueUrl(queueName: string): string {
  return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueName}`;
}

export interface Powertools {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Every count made on `metrics`, in order (see {@link watchMetrics}). */
  readonly counted: CountedMetric[];
}

/**
 * The Logger and Metrics of one execution environment of the named service,
 * as the handler's entry point builds them; pass `logger` to use one a test
 * configured (a log level, spies).
 */
export function powertools(
  serviceName: string,
  logger: Logger = new Logger({ serviceName }),
): Powertools {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName, logger });
  return { logger, metrics, counted: watchMetrics(metrics) };
}

export interface BufferedHealerOptions {
  readonly serviceName: string;
  readonly workQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** A Logger the test configured. @default a new one of the service */
  readonly logger?: Logger;
  /** The handler's clock. */
  readonly now: () => number;
}

export interface BufferedHealer {
  /** What an SQS-driven healer is built from, besides its own service clients and config. */
  readonly deps: BufferedHealerDeps;
  /** Every count the healer makes. */
  readonly counted: CountedMetric[];
}

/**
 * One execution environment of an SQS-driven healer: its own SNS and SQS
 * clients (to be mocked with aws-sdk-client-mock), Logger and Metrics, on a
 * test's idempotency table, the test topic and the given queues.
 */
export function bufferedHealer(
  table: IdempotencyTable,
  options: BufferedHealerOptions,
): BufferedHealer {
  const { logger, metrics, counted } = powertools(options.serviceName, options.logger);
  return {
    deps: {
      // Bounded by the deadline as the handlers' clients are (see aws-call.ts).
      sns: boundByDeadline(new SNSClient({})),
      sqs: boundByDeadline(new SQSClient({})),
      persistenceStore: table.persistenceLayer(),
      noticeTopicArn: TOPIC_ARN,
      workQueueUrl: options.workQueueUrl,
      deadLetterQueueUrl: options.deadLetterQueueUrl,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      logger,
      metrics,
      now: options.now,
    },
    counted,
  };
}
