/**
 * Lambda entry point of the sweeper: wiring only. Clients, Logger and Metrics
 * are created once per execution environment; the behaviour lives in
 * {@link createExecutionSweeper}. An EventBridge schedule invokes it; the
 * event carries nothing the sweep needs.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { autohealClient } from '../shared/aws-call';
import type { SweeperHandlerConfig } from '../shared/config/redrive-config';
import { CONFIG_SECTION, ENV, METRICS_NAMESPACE, SWEEPER_SERVICE_NAME } from '../shared/contract';
import { requireEnv } from '../shared/errors';
import { autohealPersistenceStore } from '../shared/idempotency';
import { normalisedConfigSource } from '../shared/normalised-config';
import { readConfigTokens } from './config-token-record';
import { createExecutionSweeper, type SweepSummary } from './execution-sweeper';
import { liveSinceSource, withConfigAndLiveSince } from './live-since-source';
import { sfnClientsByScopeRole } from './scope-roles';

const logger = new Logger({ serviceName: SWEEPER_SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SWEEPER_SERVICE_NAME });

const dynamodb = autohealClient(DynamoDBClient);
const tableName = requireEnv(ENV.idempotencyTable);

// Read at init; at the first event when the scope's values only known at deploy are in the clock's records.
const configSource = normalisedConfigSource<SweeperHandlerConfig>(
  CONFIG_SECTION.redrive,
  (reference) => readConfigTokens({ dynamodb, tableName }, reference),
);
const sfn = autohealClient(SFNClient);
const deps = {
  sfn,
  sqs: autohealClient(SQSClient),
  idempotencyKeyPrefix: process.env[ENV.idempotencyKeyPrefix] || undefined,
  persistenceStore: autohealPersistenceStore(tableName, dynamodb),
  cursorTable: { dynamodb, tableName },
  workQueueUrl: requireEnv(ENV.workQueueUrl),
  logger,
  metrics,
};

const sweep = withConfigAndLiveSince(
  configSource,
  liveSinceSource(requireEnv(ENV.liveSince), { dynamodb, tableName }),
  (config, liveSince) =>
    createExecutionSweeper({
      ...deps,
      config,
      liveSince,
      sfnFor: sfnClientsByScopeRole({
        stateMachineArns: config.stateMachineArns,
        scopeRoles: process.env[ENV.scopeRoles],
        own: sfn,
        sessionName: `autoheal-${SWEEPER_SERVICE_NAME}`,
      }),
    }),
);

export const handler = (_event: unknown, context: Context): Promise<SweepSummary> => sweep(context);
