/**
 * `autoheal history` reads what the real redrive handler recorded: the
 * handler runs on the local AWS endpoint (Step Functions, SQS) and DynamoDB
 * Local (idempotency records, the healing state table), driven with the
 * status-change events of the endpoint's executions; then history's summary
 * and rows are read through the real SDK.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { CliClients } from '../../cli/clients';
import type { Deployment } from '../../cli/deployment';
import type { History, SummaryRow } from '../../cli/history/history';
import { manualIdempotencyKey } from '../../cli/redrive/plan';
import { forceBreaker } from '../../lambda/redrive/breaker/breaker-control';
import { createBreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import { createFailureAction, failureActionFor } from '../../lambda/redrive/failure-action';
import { parseExecutionStatusChange } from '../../lambda/redrive/failure-event';
import { createRedriveHandler } from '../../lambda/redrive/redrive-processor';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { breakerOptionsByArn } from '../../lambda/shared/config/breaker-config';
import { REDRIVE_SERVICE_NAME } from '../../lambda/shared/contract';
import type { NoticeSender } from '../../lambda/shared/notice-digest';
import { runAutoheal } from '../support/cli-io';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import { MINUTE_MS, powertools } from '../support/lambda-env';
import { liveSinceFor } from '../support/live-since';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LocalAwsEndpoint,
} from '../support/local-aws/local-aws-endpoint';
import { createStateTable, type StateTable } from '../support/state-table';

const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const statesArnPrefix = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:`;
const machineArn = (name: string) => `${statesArnPrefix}stateMachine:${name}`;
const executionArnOf = (machine: string, name: string) =>
  `${statesArnPrefix}execution:${machine}:${name}`;

const config = parseRedriveConfig({
  stateMachineNamePrefixes: ['orders-'],
  delay: { jitterRatio: 0 },
  breaker: { enabled: false },
  overrides: {
    'orders-observed': { observeOnly: true },
    'orders-payments': { errors: { deny: ['Payment.*'] } },
    'orders-held': { breaker: { enabled: true } },
  },
});

let endpoint: LocalAwsEndpoint;
let table: IdempotencyTable;
let stateTable: StateTable;
let sfn: SFNClient;
let sqs: SQSClient;
let deployment: Deployment;

beforeEach(async () => {
  endpoint = await LocalAwsEndpoint.start();
  table = await createIdempotencyTable();
  stateTable = await createStateTable();
  sfn = new SFNClient({ endpoint: endpoint.url, region: LOCAL_REGION });
  sqs = new SQSClient({ endpoint: endpoint.url, region: LOCAL_REGION });
  deployment = {
    stackName: 'Autoheal',
    region: LOCAL_REGION,
    idempotencyKeyPrefix: 'autoheal',
    idempotencyTableName: table.tableName,
    stateTableName: stateTable.tableName,
    redrive: {
      workQueueUrl: endpoint.createQueue('autoheal-redrive-work'),
      deadLetterQueueUrl: endpoint.createQueue('autoheal-redrive-dlq'),
      statesArnPrefix,
      config,
      liveSince: liveSinceFor(config),
    },
  };
});

afterEach(async () => {
  jest.useRealTimers();
  sfn.destroy();
  sqs.destroy();
  await endpoint.stop();
  await table.dispose();
  await stateTable.dispose();
});

/** The redrive handler as deployed, on the endpoint and DynamoDB Local, with the real clock. */
function deployedHandler() {
  const { metrics } = powertools(REDRIVE_SERVICE_NAME, new Logger({ serviceName: 'redrive' }));
  const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME });
  // SNS is not on the endpoint: the notices go nowhere, the records are what history reads.
  const notices = { send: async () => ({ published: true }) } as unknown as NoticeSender;
  return createRedriveHandler({
    config,
    sfn,
    sns: new SNSClient({ endpoint: endpoint.url }),
    sqs,
    persistenceStore: table.persistenceLayer(),
    noticeTopicArn: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:autoheal-notices`,
    notices,
    workQueueUrl: deployment.redrive?.workQueueUrl ?? '',
    deadLetterQueueUrl: deployment.redrive?.deadLetterQueueUrl ?? '',
    maxReceiveCount: 5,
    logger,
    metrics,
    statesArnPrefix,
    breakerStore: createBreakerStore({
      dynamodb: stateTable.client,
      tableName: stateTable.tableName,
      optionsFor: breakerOptionsByArn(config),
    }),
    liveSince: deployment.redrive?.liveSince ?? liveSinceFor(config),
  });
}

/** A failed execution on the endpoint, and its status-change event delivered to the handler. */
async function failure(
  machine: string,
  name: string,
  facts: { stoppedAgoMs?: number; error?: string; redriveCount?: number } = {},
): Promise<string> {
  const executionArn = executionArnOf(machine, name);
  const stopDate = Date.now() - (facts.stoppedAgoMs ?? 30 * MINUTE_MS);
  endpoint.addExecution({
    executionArn,
    stateMachineArn: machineArn(machine),
    status: 'FAILED',
    startDate: stopDate - MINUTE_MS,
    stopDate,
    error: facts.error ?? 'Lambda.ServiceException',
    redriveCount: facts.redriveCount ?? 0,
  });
  const event = { ...endpoint.statusChangeEvent(executionArn), time: new Date().toISOString() };
  const result = await deployedHandler()(
    sqsEvent(sqsRecord(JSON.stringify(event))),
    lambdaContext(),
  );
  expect(result).toEqual({ batchItemFailures: [] });
  return executionArn;
}

/** What the handler did overnight: one failure of each outcome, and one three days ago. */
async function overnight() {
  await forceBreaker(
    createBreakerStore({ dynamodb: stateTable.client, tableName: stateTable.tableName }),
    machineArn('orders-held'),
    'open',
    { by: 'alice', reason: 'downstream maintenance' },
  );
  // Three days ago (Powertools stamps the record's expiry with Date.now(): the clock is moved, not only the handler's).
  jest.useFakeTimers({
    now: Date.now() - 3 * DAY_MS,
    advanceTimers: true,
    doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask'],
  });
  const old = await failure('orders-fulfilment', 'order-0001');
  jest.useRealTimers();
  return {
    old,
    redriven: await failure('orders-fulfilment', 'order-1001'),
    gaveUp: await failure('orders-fulfilment', 'order-1002', { redriveCount: 3 }),
    skipped: await failure('orders-payments', 'order-1003', { error: 'Payment.Declined' }),
    observed: await failure('orders-observed', 'order-1004'),
    deferred: await failure('orders-fulfilment', 'order-1005', { stoppedAgoMs: 10_000 }),
    held: await failure('orders-held', 'order-1006'),
  };
}

const clients = () => ({ dynamodb: table.client, sqs }) as unknown as CliClients;

async function history(...argv: string[]) {
  return runAutoheal(['history', ...argv], {
    deployment: async () => deployment,
    clients: clients(),
  });
}

describe('autoheal history', () => {
  it('summarises what the handler did in the last 24 hours, per machine, outcome and reason', async () => {
    // Prepare
    await overnight();

    // Act
    const run = await history();

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      ': 5 row(s) (records in the window; held failures and deferrals as they are now)',
    );
    const rows = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('│'))
      .map((line) =>
        line
          .split('│')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    expect(rows).toEqual([
      ['state machine', 'outcome', 'reason', 'count'],
      ['orders-fulfilment', 'gave-up', 'max-redrives', '1'],
      ['orders-fulfilment', 'redriven', '', '1'],
      ['orders-held', 'held', 'breaker-open', '1'],
      ['orders-observed', 'observed', 'observe-only', '1'],
      ['orders-payments', 'skipped', 'error-denied', '1'],
      ['(all, work queue)', 'deferred', 'pending', '1'],
    ]);
  });

  it('lists every row with --json, the record three days ago with --since 7d, and filters by the time server-side', async () => {
    // Prepare
    const executions = await overnight();

    // Act
    const day = JSON.parse((await history('--json')).stdout) as History & { summary: SummaryRow[] };
    const week = JSON.parse((await history('--since', '7d', '--json')).stdout) as History;

    // Assess
    expect(day.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          outcome: 'redriven',
          stateMachine: 'orders-fulfilment',
          executionArn: executions.redriven,
          redriveCount: 0,
          errorName: 'Lambda.ServiceException',
          redriveDate: expect.any(String),
          source: 'idempotency-record',
        }),
        expect.objectContaining({
          outcome: 'gave-up',
          reason: 'max-redrives',
          executionArn: executions.gaveUp,
          redriveCount: 3,
        }),
        expect.objectContaining({
          outcome: 'skipped',
          reason: 'error-denied',
          executionArn: executions.skipped,
          errorName: 'Payment.Declined',
        }),
        expect.objectContaining({ outcome: 'observed', executionArn: executions.observed }),
        expect.objectContaining({
          outcome: 'held',
          executionArn: executions.held,
          source: 'held-failure',
        }),
      ]),
    );
    expect(day.rows).toHaveLength(5);
    expect(day.rows.map((r) => r.executionArn)).not.toContain(executions.old);
    expect(day.deferredPending).toBe(1);
    // The Scan reads every record (billed) but returns only those in the window.
    expect(day.scanned).toEqual({ pages: 1, itemsRead: 5, itemsMatched: 4 });
    expect(week.rows.map((r) => r.executionArn)).toContain(executions.old);
    expect(week.rows).toHaveLength(6);
    const old = week.rows.find((r) => r.executionArn === executions.old);
    expect(Date.now() - Date.parse(old?.at ?? '')).toBeGreaterThan(3 * DAY_MS - HOUR_MS);
  });

  it('tells an operator’s bulk redrive of a failure the handler gave up on from the handler’s own outcome', async () => {
    // Prepare: the bulk redrive acts under the manual key, through the shared failure action
    const { gaveUp } = await overnight();
    const change = parseExecutionStatusChange(
      JSON.stringify(endpoint.statusChangeEvent(gaveUp)),
      Date.now(),
    );
    const automatic = failureActionFor(change, { action: 'redrive', attempt: 4 }, false);
    const actOnce = createFailureAction({
      sfnFor: () => sfn,
      notices: { send: async () => ({ published: true }) } as unknown as NoticeSender,
      persistenceStore: table.persistenceLayer(),
      now: Date.now,
    });
    await actOnce(
      { ...automatic, idempotencyKey: manualIdempotencyKey(automatic.failureKey) },
      Date.now() + 10_000,
    );

    // Act
    const result = JSON.parse((await history('--json')).stdout) as History & {
      summary: SummaryRow[];
    };

    // Assess
    expect(result.rows.filter((r) => r.executionArn === gaveUp)).toEqual([
      expect.objectContaining({ outcome: 'gave-up', key: 'automatic', redriveCount: 3 }),
      expect.objectContaining({ outcome: 'redriven', key: 'manual', redriveCount: 3 }),
    ]);
    expect(result.summary).toContainEqual({
      stateMachine: 'orders-fulfilment',
      outcome: 'redriven (by hand)',
      reason: '',
      count: 1,
    });
  });

  it.each([
    [
      ['--outcome', 'skipped,gave-up'],
      ['gave-up', 'skipped'],
    ],
    [['--state-machine', 'orders-payments'], ['skipped']],
    [['--state-machine', 'orders-h*', '--outcome', 'held'], ['held']],
    [['--outcome', 'deferred'], []],
  ])('filters with %j', async (argv, outcomes) => {
    // Prepare
    await overnight();

    // Act
    const run = await history(...argv, '--json');

    // Assess
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as History;
    expect(result.rows.map((r) => r.outcome).sort()).toEqual(outcomes);
  });

  it.each([
    [['--outcome', 'lost'], '--outcome lost is not an outcome'],
    [['--since', 'yesterday'], '--since yesterday: give a duration ago'],
  ])('refuses %j with one line before any AWS call', async (argv, message) => {
    // Act
    const run = await runAutoheal(['history', ...argv], {
      deployment: async () => deployment,
      clients: {} as CliClients,
    });

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
  });
});
