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
import { liveSinceSource, withLiveSince } from './live-since-source';
import { createRedriveHandler } from './redrive-processor';
import { sfnClientsByScopeRole } from './scope-roles';

const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: REDRIVE_SERVICE_NAME });

const dynamodb = autohealClient(DynamoDBClient);
const tableName = requireEnv(ENV.idempotencyTable);
const config = readNormalisedConfig<RedriveHandlerConfig>(CONFIG_SECTION.redrive);
const sfn = autohealClient(SFNClient);
const deps = {
  config,
  sfn,
  sfnFor: sfnClientsByScopeRole({
    stateMachineArns: config.stateMachineArns,
    scopeRoles: process.env[ENV.scopeRoles],
    own: sfn,
    sessionName: `autoheal-${REDRIVE_SERVICE_NAME}`,
  }),
  statesArnPrefix: requireEnv(ENV.statesArnPrefix),
  autohealRoleIds: requireEnv(ENV.senderRoleIds).split(','),
  sns: autohealClient(SNSClient),
  sqs: autohealClient(SQSClient),
  idempotencyKeyPrefix: process.env[ENV.idempotencyKeyPrefix] || undefined,
  persistenceStore: autohealPersistenceStore(tableName, dynamodb),
  noticeTopicArn: requireEnv(ENV.noticeTopicArn),
  workQueueUrl: requireEnv(ENV.workQueueUrl),
  deadLetterQueueUrl: requireEnv(ENV.deadLetterQueueUrl),
  maxReceiveCount: Number(requireEnv(ENV.maxReceiveCount)),
  logger,
  metrics,
};

export const handler = withLiveSince(
  liveSinceSource(requireEnv(ENV.liveSince), { dynamodb, tableName }),
  (liveSince) => createRedriveHandler({ ...deps, liveSince }),
);
