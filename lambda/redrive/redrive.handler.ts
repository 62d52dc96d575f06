/**
 * Lambda entry point of the redrive path: wiring only. Clients, Logger and
 * Metrics are created once per execution environment; the behaviour lives in
 * {@link createRedriveHandler}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { autohealClient } from '../shared/aws-call';
import type { RedriveHandlerConfig } from '../shared/config/redrive-config';
import { CONFIG_SECTION, ENV, METRICS_NAMESPACE, REDRIVE_SERVICE_NAME } from '../shared/contract';
import { requireEnv } from '../shared/errors';
import { autohealPersistenceStore } from '../shared/idempotency';
import { readNormalisedConfig } from '../shared/normalised-config';
import { handlerNoticeSender } from '../shared/notice-digest-config';
import { liveSinceSource, withLiveSince } from './live-since-source';
import { breakerStoreFor } from './redrive-breaker';
import { createRedriveHandler } from './redrive-processor';

const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: REDRIVE_SERVICE_NAME });

const dynamodb = autohealClient(DynamoDBClient);
const tableName = requireEnv(ENV.idempotencyTable);
const sns = autohealClient(SNSClient);
const noticeTopicArn = requireEnv(ENV.noticeTopicArn);
const idempotencyKeyPrefix = process.env[ENV.idempotencyKeyPrefix] || undefined;
const deps = {
  config: readNormalisedConfig<RedriveHandlerConfig>(CONFIG_SECTION.redrive),
  sfn: autohealClient(SFNClient),
  statesArnPrefix: requireEnv(ENV.statesArnPrefix),
  autohealRoleIds: requireEnv(ENV.senderRoleIds).split(','),
  sns,
  sqs: autohealClient(SQSClient),
  idempotencyKeyPrefix,
  persistenceStore: autohealPersistenceStore(tableName, dynamodb),
  noticeTopicArn,
  // Digests per the config file's `notices` options, on the healing state table.
  notices: handlerNoticeSender({
    sns,
    topicArn: noticeTopicArn,
    dynamodb,
    tableName: process.env[ENV.stateTable],
    keyPrefix: idempotencyKeyPrefix,
    logger,
  }),
  workQueueUrl: requireEnv(ENV.workQueueUrl),
  deadLetterQueueUrl: requireEnv(ENV.deadLetterQueueUrl),
  maxReceiveCount: Number(requireEnv(ENV.maxReceiveCount)),
  logger,
  metrics,
};

// The storm brake's state: the table is required when a breaker is enabled anywhere; none, no store.
const breakerStore = breakerStoreFor(deps.config, () => ({
  dynamodb,
  tableName: requireEnv(ENV.stateTable),
  keyPrefix: deps.idempotencyKeyPrefix,
}));

export const handler = withLiveSince(
  liveSinceSource(requireEnv(ENV.liveSince), { dynamodb, tableName }),
  (liveSince) => createRedriveHandler({ ...deps, liveSince, breakerStore }),
);
