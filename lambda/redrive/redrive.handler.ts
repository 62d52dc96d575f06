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
import { normalisedConfigSource } from '../shared/normalised-config';
import { handlerNoticeSender } from '../shared/notice-digest-config';
import { readConfigTokens } from './config-token-record';
import { liveSinceSource, withConfigAndLiveSince } from './live-since-source';
import { breakerStoreFor } from './redrive-breaker';
import { createRedriveHandler } from './redrive-processor';
import { sfnClientsByScopeRole } from './scope-roles';

const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: REDRIVE_SERVICE_NAME });

const dynamodb = autohealClient(DynamoDBClient);
const tableName = requireEnv(ENV.idempotencyTable);
const sns = autohealClient(SNSClient);
const noticeTopicArn = requireEnv(ENV.noticeTopicArn);
const idempotencyKeyPrefix = process.env[ENV.idempotencyKeyPrefix] || undefined;
// Read at init; at the first event when the scope's values only known at deploy are in the clock's records.
const configSource = normalisedConfigSource<RedriveHandlerConfig>(
  CONFIG_SECTION.redrive,
  (reference) => readConfigTokens({ dynamodb, tableName }, reference),
);
const sfn = autohealClient(SFNClient);
const deps = {
  sfn,
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

export const handler = withConfigAndLiveSince(
  configSource,
  liveSinceSource(requireEnv(ENV.liveSince), { dynamodb, tableName }),
  (config, liveSince) =>
    createRedriveHandler({
      ...deps,
      config,
      liveSince,
      sfnFor: sfnClientsByScopeRole({
        stateMachineArns: config.stateMachineArns,
        scopeRoles: process.env[ENV.scopeRoles],
        own: sfn,
        sessionName: `autoheal-${REDRIVE_SERVICE_NAME}`,
      }),
      // The storm brake's state: the table is required when a breaker is enabled anywhere; none, no store.
      breakerStore: breakerStoreFor(config, () => ({
        dynamodb,
        tableName: requireEnv(ENV.stateTable),
        keyPrefix: idempotencyKeyPrefix,
      })),
    }),
);
