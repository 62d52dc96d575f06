/**
 * The redrive handler as the redrive suites run it: on mocked clients, the
 * test deployment's topic and queues, a test's idempotency table, and a fixed
 * clock.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { LiveSinceDocument } from '../../lambda/redrive/live-healing';
import { createRedriveHandler } from '../../lambda/redrive/redrive-processor';
import type { RedriveConfig } from '../../lambda/shared/autoheal-config';
import { boundByDeadline } from '../../lambda/shared/aws-call';
import { REDRIVE_SERVICE_NAME } from '../../lambda/shared/contract';
import { resetSnsAndSqsMocks } from './aws-mocks';
import type { IdempotencyTable } from './idempotency-table';
import { bufferedHealer, queueUrl, STATES_ARN_PREFIX } from './lambda-env';
import { liveSinceFor } from './live-since';

/** The handler's clock. */
export const NOW = Date.parse('2026-03-02T10:00:00.000Z');
export const WORK_QUEUE_URL = queueUrl('autoheal-redrive-work');
export const DLQ_URL = queueUrl('autoheal-redrive-dlq');

export const sfnMock = mockClient(SFNClient);

/**
 * Forgets every call and behaviour of the Step Functions, SNS and SQS mocks;
 * then every RedriveExecution succeeds (at NOW), and so does every Publish and
 * SendMessage.
 */
export function resetRedriveMocks(): void {
  sfnMock.reset();
  resetSnsAndSqsMocks();
  sfnMock.on(RedriveExecutionCommand).resolves({ redriveDate: new Date(NOW) });
}

/**
 * A redrive handler of one Lambda execution environment, with every metric it
 * counts; pass `logger` to use one a test configured, and `now` for another
 * clock reading than {@link NOW}.
 */
export function redriveHandler(
  table: IdempotencyTable,
  config: RedriveConfig,
  logger?: Logger,
  liveSince: LiveSinceDocument = liveSinceFor(config),
  now = NOW,
  idempotencyKeyPrefix?: string,
) {
  const { deps, counted } = bufferedHealer(table, {
    serviceName: REDRIVE_SERVICE_NAME,
    workQueueUrl: WORK_QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    logger,
    now: () => now,
  });
  return {
    handler: createRedriveHandler({
      ...deps,
      config,
      sfn: boundByDeadline(new SFNClient({})),
      statesArnPrefix: STATES_ARN_PREFIX,
      liveSince,
      idempotencyKeyPrefix,
    }),
    counted,
  };
}
