/**
 * Lambda entry point of the flow starter: wiring only. Clients, Logger and
 * Metrics are created once per execution environment; the behaviour lives in
 * {@link createFlowStarterHandler}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AppflowClient } from '@aws-sdk/client-appflow';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { autohealClient } from '../shared/aws-call';
import type { AppflowHandlerConfig } from '../shared/config/appflow-config';
import {
  CONFIG_SECTION,
  ENV,
  FLOW_STARTER_SERVICE_NAME,
  METRICS_NAMESPACE,
} from '../shared/contract';
import { requireEnv } from '../shared/errors';
import { autohealPersistenceStore } from '../shared/idempotency';
import { readNormalisedConfig } from '../shared/normalised-config';
import { handlerNoticeSender } from '../shared/notice-digest-config';
import { createFlowStarterHandler } from './flow-starter';

const logger = new Logger({ serviceName: FLOW_STARTER_SERVICE_NAME });
const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: FLOW_STARTER_SERVICE_NAME,
});
const dynamodb = autohealClient(DynamoDBClient);
const sns = autohealClient(SNSClient);
const noticeTopicArn = requireEnv(ENV.noticeTopicArn);
const idempotencyKeyPrefix = process.env[ENV.idempotencyKeyPrefix] || undefined;

export const handler = createFlowStarterHandler({
  // Normalised at synth (time zones resolved); read as written, without zod (normalised-config.ts).
  config: readNormalisedConfig<AppflowHandlerConfig>(CONFIG_SECTION.appflow),
  appflow: autohealClient(AppflowClient),
  sns,
  sqs: autohealClient(SQSClient),
  idempotencyKeyPrefix,
  persistenceStore: autohealPersistenceStore(requireEnv(ENV.idempotencyTable), dynamodb),
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
  deadLetterQueueUrl: requireEnv(ENV.deadLetterQueueUrl),
  logger,
  metrics,
});
