/**
 * Lambda entry point of the brake keeper: wiring only. Clients, the breaker
 * store, Logger and Metrics are created once per execution environment; the
 * behaviour lives in {@link createBrakeKeeper}. An EventBridge rule invokes it
 * every minute; the event carries nothing the keeper needs.
 *
 * The redrive section and the work queue's URL are there when the redrive
 * path is installed. Without it (an AppFlow-only installation) no state
 * machine is ever held or registered, so the keeper's breaker pass finds
 * nothing to do and never sends to a queue.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createBreakerStore } from '../redrive/breaker/breaker-store';
import { autohealClient } from '../shared/aws-call';
import {
  breakerOptionsFor,
  DEFAULT_BREAKER,
  type RedriveHandlerConfig,
} from '../shared/config/redrive-config';
import {
  BRAKE_KEEPER_SERVICE_NAME,
  CONFIG_SECTION,
  ENV,
  METRICS_NAMESPACE,
} from '../shared/contract';
import { requireEnv } from '../shared/errors';
import { readNormalisedConfig } from '../shared/normalised-config';
import { handlerNoticeSender } from '../shared/notice-digest-config';
import type { Notice } from '../shared/notices';
import { parseStateMachineArn } from '../shared/state-machine-names';
import { createBrakeKeeper } from './brake-keeper';

const logger = new Logger({ serviceName: BRAKE_KEEPER_SERVICE_NAME });
const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: BRAKE_KEEPER_SERVICE_NAME,
});

const workQueueUrl = process.env[ENV.workQueueUrl] || undefined;
const redrive = workQueueUrl
  ? readNormalisedConfig<RedriveHandlerConfig>(CONFIG_SECTION.redrive)
  : undefined;
const sns = autohealClient(SNSClient);
const noticeTopicArn = requireEnv(ENV.noticeTopicArn);

/** No redrive path (AppFlow only): no machine has a breaker. */
const NO_REDRIVE = { breaker: { ...DEFAULT_BREAKER, enabled: false }, overrides: {} };

/** A machine's breaker options: the section's `breaker` with its override's on top. */
const optionsFor = (machineArn: string) =>
  breakerOptionsFor(
    redrive ?? NO_REDRIVE,
    parseStateMachineArn(machineArn)?.stateMachineName ?? '',
  );

const dynamodb = autohealClient(DynamoDBClient);
const tableName = requireEnv(ENV.stateTable);
const keyPrefix = process.env[ENV.idempotencyKeyPrefix] || undefined;
// The keeper's own notices (breaker opened or closed, held failures nearing or past their
// window) are digested like every other; it also flushes every handler's due digests.
const notices = handlerNoticeSender({
  sns,
  topicArn: noticeTopicArn,
  dynamodb,
  tableName,
  keyPrefix,
  logger,
});
/** The id a digest lists for a notice: the execution it is about, else its state machine. */
const exampleOf = (notice: Notice): string =>
  String(notice.facts.executionArn ?? notice.facts.stateMachineArn ?? notice.subject);

const keep = createBrakeKeeper({
  store: createBreakerStore({ dynamodb, tableName, keyPrefix, optionsFor }),
  optionsFor,
  sqs: autohealClient(SQSClient),
  workQueueUrl: workQueueUrl ?? '',
  notify: async (notice: Notice) => {
    await notices.send(notice, exampleOf(notice), Date.now());
  },
  flushDigests: async (now: number) => {
    await notices.flushDueDigests(now);
  },
  logger,
  metrics,
});

export const handler = (event: unknown, context: Context): Promise<void> => keep(event, context);
