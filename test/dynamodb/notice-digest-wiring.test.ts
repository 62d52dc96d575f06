/**
 * The handlers send their notices through the digest sender: a storm of
 * give-ups of one state machine, or of skipped ticks of one flow, reaches the
 * operator as one notice and one digest. SNS, Step Functions and AppFlow are
 * mocked; idempotency records and digests live in DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AppflowClient,
  ConflictException,
  DescribeFlowCommand,
  type DescribeFlowResponse,
  StartFlowCommand,
} from '@aws-sdk/client-appflow';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { createFlowHealerHandler } from '../../lambda/appflow/flow-healer';
import { createFlowStarterHandler } from '../../lambda/appflow/flow-starter';
import { createRedriveHandler } from '../../lambda/redrive/redrive-processor';
import { parseAppflowConfig, parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { boundByDeadline } from '../../lambda/shared/aws-call';
import {
  FLOW_HEALER_SERVICE_NAME,
  FLOW_STARTER_SERVICE_NAME,
  REDRIVE_SERVICE_NAME,
} from '../../lambda/shared/contract';
import {
  createNoticeSender,
  DIGEST_FLUSH_GRACE_MS,
  type NoticeDigest,
} from '../../lambda/shared/notice-digest';
import { notices, resetSnsAndSqsMocks } from '../support/aws-mocks';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import {
  ACCOUNT,
  bufferedHealer,
  MINUTE_MS,
  powertools,
  queueUrl,
  REGION,
  STATES_ARN_PREFIX,
  TOPIC_ARN,
} from '../support/lambda-env';
import { liveSinceFor } from '../support/live-since';
import { createStateTable, type StateTable } from '../support/state-table';

const NOW = Date.parse('2026-03-02T10:00:00.000Z');
/** When the keeper's flush takes the window of NOW (15-minute windows). */
const FLUSH_AT = NOW + 15 * MINUTE_MS + DIGEST_FLUSH_GRACE_MS;
const OPTIONS = { digestWindowMinutes: 15, immediateNotices: 1, digestExamples: 10 };

const appflowMock = mockClient(AppflowClient);

// Several DynamoDB Local round trips per notice: generous on a busy machine.
jest.setTimeout(30_000);

let idempotency: IdempotencyTable;
let state: StateTable;

beforeEach(async () => {
  resetSnsAndSqsMocks();
  appflowMock.reset();
  [idempotency, state] = await Promise.all([createIdempotencyTable(), createStateTable()]);
});

afterEach(async () => {
  await Promise.all([idempotency.dispose(), state.dispose()]);
});

/** The digest sender of one environment, on this test's state table and the mocked topic. */
function digestSender() {
  return createNoticeSender({
    sns: new SNSClient({}),
    topicArn: TOPIC_ARN,
    dynamodb: new DynamoDBClient({}),
    tableName: state.tableName,
    keyPrefix: 'autoheal',
    options: OPTIONS,
  });
}

const digestsPublished = () =>
  notices()
    .filter((n) => n.MessageAttributes?.digest?.StringValue === 'true')
    .map((n) => n.body as unknown as NoticeDigest);
const publishedAlone = () =>
  notices().filter((n) => n.MessageAttributes?.digest?.StringValue !== 'true');

describe('the redrive handler with notice digests', () => {
  const config = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] });

  /** A FAILED execution of orders-fulfilment redriven maxRedrives times already: a give-up. */
  function exhaustedFailure() {
    const name = `order-${randomUUID()}`;
    const machine = 'orders-fulfilment';
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`;
    const detail = {
      executionArn,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`,
      name,
      status: 'FAILED',
      startDate: NOW - 12 * MINUTE_MS,
      stopDate: NOW - 10 * MINUTE_MS,
      redriveCount: config.maxRedrives,
      redriveDate: null,
      redriveStatus: 'REDRIVABLE',
      redriveStatusReason: null,
      error: 'Lambda.ServiceException',
      cause: 'secret cause',
      input: '{"card":"4111"}',
    };
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: ACCOUNT,
      time: new Date(NOW - 10 * MINUTE_MS).toISOString(),
      region: REGION,
      resources: [executionArn],
      detail,
    };
    return { executionArn, body: JSON.stringify(event) };
  }

  it('gives up on 5 failures of one machine with one notice at once and one digest of the other 4', async () => {
    // Prepare
    const { deps } = bufferedHealer(idempotency, {
      serviceName: REDRIVE_SERVICE_NAME,
      workQueueUrl: queueUrl('autoheal-redrive-work'),
      deadLetterQueueUrl: queueUrl('autoheal-redrive-dlq'),
      now: () => NOW,
    });
    const sender = digestSender();
    const handler = createRedriveHandler({
      ...deps,
      config,
      sfn: boundByDeadline(new SFNClient({})),
      statesArnPrefix: STATES_ARN_PREFIX,
      liveSince: liveSinceFor(config),
      notices: sender,
    });
    const failures = Array.from({ length: 5 }, exhaustedFailure);

    // Act
    for (const failure of failures) {
      await handler(sqsEvent(sqsRecord(failure.body)), lambdaContext());
    }
    const beforeFlush = notices().length;
    await sender.flushDueDigests(FLUSH_AT);

    // Assess
    expect(beforeFlush).toBe(1);
    expect(publishedAlone()).toEqual([
      expect.objectContaining({
        body: expect.objectContaining({ kind: 'redrive-gave-up', reason: 'max-redrives' }),
      }),
    ]);
    const [digest] = digestsPublished();
    expect(digestsPublished()).toHaveLength(1);
    expect(digest).toMatchObject({
      kind: 'redrive-gave-up',
      reason: 'max-redrives',
      subject: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-fulfilment`,
      counted: 4,
      examples: failures.slice(1).map((f) => f.executionArn),
    });
    expect(JSON.stringify(digest)).not.toMatch(/secret cause|4111/);
  });
});

describe('the flow starter with notice digests', () => {
  const config = parseAppflowConfig({
    schedules: [{ name: 'nightly', expression: 'cron(0 2 * * ? *)', flows: ['crm-export'] }],
  });

  it('skips a suspended flow on 4 ticks with one notice at once and one digest of the other 3', async () => {
    // Prepare
    const suspended: DescribeFlowResponse = {
      flowName: 'crm-export',
      flowStatus: 'Suspended',
      flowStatusMessage: 'deactivated',
      triggerConfig: { triggerType: 'OnDemand' },
    };
    appflowMock.on(DescribeFlowCommand).resolves(suspended);
    const env = powertools(FLOW_STARTER_SERVICE_NAME);
    const sender = digestSender();
    const handler = createFlowStarterHandler({
      config,
      appflow: new AppflowClient({}),
      sns: new SNSClient({}),
      sqs: new SQSClient({}),
      persistenceStore: idempotency.persistenceLayer(),
      noticeTopicArn: TOPIC_ARN,
      deadLetterQueueUrl: queueUrl('autoheal-flow-starter-dlq'),
      logger: env.logger,
      metrics: env.metrics,
      notices: sender,
      now: () => NOW,
    });
    const scheduledTimes = [1, 2, 3, 4].map((day) => `2026-03-0${day}T02:00:00Z`);

    // Act
    for (const scheduledTime of scheduledTimes) {
      await handler({ schedule: 'nightly', scheduledTime, flows: ['crm-export'] }, lambdaContext());
    }
    const beforeFlush = notices().length;
    await sender.flushDueDigests(FLUSH_AT);

    // Assess
    expect(beforeFlush).toBe(1);
    expect(digestsPublished()).toEqual([
      expect.objectContaining({
        kind: 'flow-start-skipped',
        reason: 'flow-suspended',
        subject: 'crm-export',
        counted: 3,
        examples: scheduledTimes.slice(1).map((t) => `crm-export@${t}`),
      }),
    ]);
  });
});

describe('the flow healer with notice digests', () => {
  const flow = 'crm-accounts-export';
  const config = parseAppflowConfig({
    schedules: [{ name: 'nightly', expression: 'cron(0 2 * * ? *)', flows: [flow] }],
  });

  /** A failed OnDemand run of the flow (the fixture's), with its own execution id. */
  function failedRun(executionId: string): string {
    const path = join(__dirname, '..', 'fixtures', 'appflow', 'run-failed-on-demand.json');
    const event = JSON.parse(readFileSync(path, 'utf8'));
    return JSON.stringify({
      ...event,
      id: randomUUID(),
      detail: { ...event.detail, 'execution-id': executionId },
    });
  }

  it('reports 4 refused re-runs of one flow with one notice at once and one digest of the other 3', async () => {
    // Prepare: every re-run is refused; the runs' delays have passed
    appflowMock
      .on(StartFlowCommand)
      .rejects(new ConflictException({ message: 'busy', $metadata: { httpStatusCode: 409 } }));
    const { deps } = bufferedHealer(idempotency, {
      serviceName: FLOW_HEALER_SERVICE_NAME,
      workQueueUrl: queueUrl('autoheal-flow-healer-work'),
      deadLetterQueueUrl: queueUrl('autoheal-flow-healer-dlq'),
      now: () => NOW,
    });
    const sender = digestSender();
    const handler = createFlowHealerHandler({
      ...deps,
      config,
      appflow: new AppflowClient({}),
      dynamodb: idempotency.client,
      idempotencyTable: idempotency.tableName,
      notices: sender,
    });
    const runs = ['run-1', 'run-2', 'run-3', 'run-4'];

    // Act
    for (const run of runs) await handler(sqsEvent(sqsRecord(failedRun(run))), lambdaContext());
    const beforeFlush = notices().length;
    await sender.flushDueDigests(FLUSH_AT);

    // Assess
    expect(beforeFlush).toBe(1);
    expect(digestsPublished()).toEqual([
      expect.objectContaining({
        kind: 'flow-rerun-failed',
        reason: 'start-flow-refused',
        subject: flow,
        counted: 3,
        examples: runs.slice(1),
      }),
    ]);
  });
});
