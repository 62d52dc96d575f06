/**
 * A state machine whose name Step Functions allows but Autoheal used to refuse
 * (`orders-eu.v2`), end to end: its failure event, through the local AWS
 * endpoint's SQS and Step Functions, reaches the real redrive handler and is
 * redriven once; a failure whose event was lost is found by the real sweeper,
 * enqueued once, redriven, and not enqueued again by the next sweep.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createExecutionSweeper } from '../../lambda/redrive/execution-sweeper';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { METRICS_NAMESPACE, SWEEPER_SERVICE_NAME } from '../../lambda/shared/contract';
import { AUTOHEAL_CLIENT_CONFIG } from '../../lambda/shared/sdk-clients';
import { liveSinceFor } from '../support/live-since';
import { type RedriveRig, startRedriveRig } from '../support/resilience/redrive-rig';

jest.setTimeout(120_000);

const MACHINE = 'orders-eu.v2';
/** In scope by a name prefix: the rule and IAM always covered it, only the name check refused it. */
const config = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] });
/** Stopped long enough ago that the delay and the sweeper's grace for in-flight events have passed. */
const STOPPED_AGO_MS = 30 * 60_000;

let rig: RedriveRig;
const clients: { destroy(): void }[] = [];

beforeEach(async () => {
  rig = await startRedriveRig({ environments: 2, config });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await rig.stop();
});

/** The real sweeper, on the rig's local endpoint and idempotency table. */
function sweeper() {
  const sfn = new SFNClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: rig.endpoint.url });
  const sqs = new SQSClient({ ...AUTOHEAL_CLIENT_CONFIG, endpoint: rig.endpoint.url });
  const dynamodb = new DynamoDBClient({
    ...AUTOHEAL_CLIENT_CONFIG,
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
  });
  clients.push(sfn, sqs, dynamodb);
  const logger = new Logger({ serviceName: SWEEPER_SERVICE_NAME, logLevel: 'SILENT' });
  const sweep = createExecutionSweeper({
    config,
    sfn,
    sqs,
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: rig.tableName,
      awsSdkV3Client: dynamodb,
    }),
    cursorTable: { dynamodb, tableName: rig.tableName },
    workQueueUrl: rig.workQueueUrl,
    liveSince: liveSinceFor(config),
    logger,
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: SWEEPER_SERVICE_NAME,
      logger,
    }),
  });
  return () => sweep({ getRemainingTimeInMillis: () => 300_000 });
}

describe(`a state machine named ${MACHINE}`, () => {
  it('has its in-scope failure redriven once from its event, nothing parked', async () => {
    // Prepare
    const [executionArn] = rig.seedFailures(1, { machine: MACHINE, stoppedAgoMs: STOPPED_AGO_MS });

    // Act
    await rig.enqueue([rig.failureEventBody(executionArn)]);
    const run = await rig.drain(60_000);

    // Assess
    expect(run.abandoned).toBe(false);
    expect(rig.tally([executionArn])).toMatchObject({
      redriven: 1,
      duplicates: 0,
      parkedWithReason: 0,
      lost: 0,
    });
    expect(rig.parked()).toEqual([]);
  });

  it('has a failure whose event was lost swept once, redriven, and not swept again', async () => {
    // Prepare: the failure's event never arrives
    const [executionArn] = rig.seedFailures(1, { machine: MACHINE, stoppedAgoMs: STOPPED_AGO_MS });
    const sweep = sweeper();

    // Act
    const first = await sweep();
    await rig.drain(60_000);
    const second = await sweep();
    await rig.drain(60_000);

    // Assess
    expect(first).toMatchObject({ enqueued: 1, alreadyHandled: 0, failed: 0 });
    expect(second).toMatchObject({ enqueued: 0, failed: 0 });
    expect(rig.tally([executionArn])).toMatchObject({ redriven: 1, duplicates: 0, lost: 0 });
    expect(rig.parked()).toEqual([]);
  });
});
