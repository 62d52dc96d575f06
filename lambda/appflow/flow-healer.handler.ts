/**
 * Lambda entry point of the AppFlow flow healer: wiring only. Clients, Logger
 * and Metrics are created once per execution environment; the behaviour lives
 * in {@link createFlowHealerHandler}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AppflowClient } from '@aws-sdk/client-appflow';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { autohealClient } from '../shared/aws-call';
import { type AppflowHandlerConfig, flowsInScope } from '../shared/config/appflow-config';
import {
  CONFIG_SECTION,
  ENV,
  FLOW_HEALER_SERVICE_NAME,
  METRICS_NAMESPACE,
} from '../shared/contract';
import { requireEnv } from '../shared/errors';
import { autohealPersistenceStore } from '../shared/idempotency';
import { readNormalisedConfig } from '../shared/normalised-config';
import { handlerNoticeSender } from '../shared/notice-digest-config';
import { createFlowHealerHandler } from './flow-healer';
import { appflowClientsByScopeRole } from './scope-roles';

const logger = new Logger({ serviceName: FLOW_HEALER_SERVICE_NAME });
const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: FLOW_HEALER_SERVICE_NAME,
});
const idempotencyTable = requireEnv(ENV.idempotencyTable);
const dynamodb = autohealClient(DynamoDBClient);
const sns = autohealClient(SNSClient);
const noticeTopicArn = requireEnv(ENV.noticeTopicArn);
const idempotencyKeyPrefix = process.env[ENV.idempotencyKeyPrefix] || undefined;

// Normalised at synth (time zones resolved); read as written, without zod (normalised-config.ts).
const config = readNormalisedConfig<AppflowHandlerConfig>(CONFIG_SECTION.appflow);
const appflow = autohealClient(AppflowClient);

export const handler = createFlowHealerHandler({
  config,
  appflow,
  // Flows past the role's grants are called as the scope role holding them (no STS client without one).
  appflowFor: appflowClientsByScopeRole({
    flows: flowsInScope(config),
    scopeRoles: process.env[ENV.scopeRoles],
    own: appflow,
    sessionName: `autoheal-${FLOW_HEALER_SERVICE_NAME}`,
  }),
  sns,
  sqs: autohealClient(SQSClient),
  dynamodb,
  idempotencyTable,
  idempotencyKeyPrefix,
  persistenceStore: autohealPersistenceStore(idempotencyTable, dynamodb),
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
});
