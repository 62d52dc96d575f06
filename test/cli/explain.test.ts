/**
 * `autoheal explain` agrees with the redrive handler: on every fixture event
 * and on 1,000 generated ones, the real handler (createRedriveHandler, on
 * DynamoDB Local, Step Functions, SNS and SQS mocked) logs its decision, and
 * explain, given the same event and config offline, names the same one. Then
 * explain through the real SDK: an execution on the local AWS endpoint,
 * records the handler wrote in DynamoDB Local, a held failure.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { CliClients } from '../../cli/clients';
import type { Deployment } from '../../cli/deployment';
import { type ExplainSetup, type Explanation, explainEvent } from '../../cli/explain/explain';
import { forceBreaker } from '../../lambda/redrive/breaker/breaker-control';
import { createBreakerStore } from '../../lambda/redrive/breaker/breaker-store';
import { createRedriveHandler } from '../../lambda/redrive/redrive-processor';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { breakerOptionsByArn } from '../../lambda/shared/config/breaker-config';
import { REDRIVE_SERVICE_NAME } from '../../lambda/shared/contract';
import type { NoticeSender } from '../../lambda/shared/notice-digest';
import { snsMock, sqsMock } from '../support/aws-mocks';
import { runAutoheal } from '../support/cli-io';
import {
  AFTER_EVERY_FIXTURE,
  EVENT_FIXTURES,
  INVALID_EVENT_FIXTURES,
  loadEvent,
  type StatusChangeEvent,
} from '../support/fixtures';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import { ACCOUNT, MINUTE_MS, powertools, REGION, STATES_ARN_PREFIX } from '../support/lambda-env';
import { liveSinceFor } from '../support/live-since';
import {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  LocalAwsEndpoint,
} from '../support/local-aws/local-aws-endpoint';
import { captureLogs } from '../support/logs';
import { NOW, redriveHandler, resetRedriveMocks, sfnMock } from '../support/redrive-harness';
import { createStateTable, type StateTable } from '../support/state-table';

const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Live healing began here: failures that stopped before are skipped. */
const LIVE_SINCE = NOW - 3 * DAY_MS;

const rawConfig = {
  stateMachineNamePrefixes: ['orders-', 'autoheal-demo-'],
  overrides: {
    'orders-observed': { observeOnly: true },
    'orders-payments': { errors: { deny: ['Payment.*'] } },
    'orders-strict': { errors: { allow: ['Lambda.*'] }, maxRedrives: 1 },
    'orders-aborts': { statuses: ['FAILED', 'ABORTED'] },
  },
  breaker: { enabled: false },
};
const config = parseRedriveConfig(rawConfig);

const configDir = mkdtempSync(join(tmpdir(), 'autoheal-explain-'));
const configFile = join(configDir, 'autoheal.json');
writeFileSync(configFile, JSON.stringify({ redrive: rawConfig }));

/** What a decision comes to, comparable between the handler's log and explain. */
interface Verdict {
  readonly action: string;
  readonly reason?: string;
  readonly dueAt?: string;
  readonly observed?: boolean;
  readonly field?: string;
}

function verdictOf(explanation: Explanation): Verdict {
  const { decision } = explanation;
  if (explanation.action === 'park') return { action: 'park', field: explanation.parked?.field };
  if (!decision) throw new Error('no decision');
  switch (decision.action) {
    case 'ignore':
    case 'skip':
    case 'give-up':
      return { action: decision.action, reason: decision.reason };
    case 'defer':
      return { action: 'defer', dueAt: new Date(decision.dueAt).toISOString() };
    case 'redrive':
      return { action: 'redrive', observed: explanation.policy?.observeOnly === true };
    default:
      return { action: decision.action };
  }
}

/** The handler's verdict per message id, from its log lines. */
function handlerVerdicts(
  lines: readonly string[],
  messageIdOf: ReadonlyMap<string, string>,
): Map<string, Verdict> {
  const verdicts = new Map<string, Verdict>();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.message === 'Invalid event parked in the dead-letter queue') {
      verdicts.set(String(entry.messageId), { action: 'park', field: String(entry.field) });
      continue;
    }
    const messageId = messageIdOf.get(String(entry.executionArn));
    if (!messageId || typeof entry.decision !== 'string') continue;
    if (entry.decision === 'defer') {
      verdicts.set(messageId, { action: 'defer', dueAt: String(entry.dueAt) });
    } else if (entry.decision === 'redrive') {
      verdicts.set(messageId, { action: 'redrive', observed: entry.outcome === 'observed' });
    } else {
      verdicts.set(messageId, { action: entry.decision, reason: String(entry.reason) });
    }
  }
  return verdicts;
}

/** Step Functions' answer to DescribeExecution for an event's execution: its facts, completed. */
function describedDetail(event: StatusChangeEvent, now: number) {
  const d = event.detail;
  return {
    ...d,
    redriveCount: d.redriveCount ?? 0,
    redriveStatus: d.redriveStatus ?? 'REDRIVABLE',
    stopDate: d.stopDate ?? now - 10 * MINUTE_MS,
  };
}

/** The event of the facts DescribeExecution answers, delivered now: what the handler decides on after a describe. */
function describedEvent(event: StatusChangeEvent, now: number): StatusChangeEvent {
  return { ...event, time: new Date(now).toISOString(), detail: describedDetail(event, now) };
}

/** Step Functions (mocked) answers DescribeExecution with the facts of the events given. */
function describeAnswers(events: readonly StatusChangeEvent[], now: number): void {
  const byArn = new Map(events.map((e) => [e.detail.executionArn, describedDetail(e, now)]));
  sfnMock.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
    const d = byArn.get(input.executionArn);
    if (!d) throw new Error(`unexpected DescribeExecution ${input.executionArn}`);
    return {
      executionArn: d.executionArn,
      stateMachineArn: d.stateMachineArn,
      status: d.status,
      startDate: new Date(d.startDate),
      stopDate: new Date(d.stopDate),
      redriveCount: d.redriveCount,
      redriveStatus: d.redriveStatus,
      redriveStatusReason: d.redriveStatusReason ?? undefined,
      error: d.error ?? undefined,
    };
  });
}

/** What explain expects the handler to do: decided offline, and after the describe the handler makes. */
function explainedVerdict(setup: ExplainSetup, event: StatusChangeEvent, now: number) {
  const first = explainEvent(setup, JSON.stringify(event), now);
  if (!first.handlerDescribesFirst) return { verdict: verdictOf(first), describes: false };
  const after = explainEvent(setup, JSON.stringify(describedEvent(event, now)), now);
  return { verdict: verdictOf(after), describes: true };
}

/** A seeded PRNG (mulberry32): the 1,000 events are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MACHINES = [
  'orders-fulfilment',
  'orders-observed',
  'orders-payments',
  'orders-strict',
  'orders-aborts',
  'billing-nightly', // out of scope
];
const STATUSES = [
  'FAILED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'SUCCEEDED',
  'RUNNING',
  'PENDING_REDRIVE',
];
const REDRIVE_STATUSES = [
  'REDRIVABLE',
  'REDRIVABLE',
  'REDRIVABLE',
  'NOT_REDRIVABLE',
  'REDRIVE_IN_PROGRESS',
];
const ERRORS = [
  'Lambda.ServiceException',
  'Lambda.TooManyRequestsException',
  'States.Runtime',
  'States.TaskFailed',
  'Payment.Declined',
  null,
];
/** How long before now the execution stopped: inside the delay, past it, before live healing, past 14 days, in the future. */
const STOPPED_AGO_MS = [
  10_000,
  2 * MINUTE_MS,
  30 * MINUTE_MS,
  3 * HOUR_MS,
  4 * DAY_MS,
  15 * DAY_MS,
  -10 * MINUTE_MS,
];

/** One random status-change event around `now`. */
function generatedEvent(random: () => number, now: number): StatusChangeEvent {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const machine = pick(MACHINES);
  const mapRunChild = random() < 0.04;
  const name = randomUUID();
  const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}${mapRunChild ? '/ProcessLines' : ''}:${name}`;
  const stopDate = now - pick(STOPPED_AGO_MS);
  const olderFormat = random() < 0.08;
  // Most events are delivered at once; some an hour late (the handler confirms those).
  const time = random() < 0.15 ? now - HOUR_MS : Math.min(now, stopDate + 2000);
  const status = pick(STATUSES);
  const detail: Record<string, unknown> = {
    executionArn,
    stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machine}`,
    name,
    status,
    startDate: stopDate - MINUTE_MS,
    stopDate: status === 'RUNNING' ? null : stopDate,
    input: '{}',
    inputDetails: { included: true },
    output: null,
    outputDetails: null,
    error: pick(ERRORS),
    cause: null,
  };
  if (!olderFormat) {
    detail.redriveCount = Math.floor(random() * 5);
    detail.redriveDate = null;
    detail.redriveStatus = status === 'RUNNING' ? 'REDRIVE_IN_PROGRESS' : pick(REDRIVE_STATUSES);
    detail.redriveStatusReason =
      detail.redriveStatus === 'NOT_REDRIVABLE' ? 'Execution is SUCCEEDED' : null;
  }
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: new Date(time).toISOString(),
    region: REGION,
    resources: [executionArn],
    detail: detail as unknown as StatusChangeEvent['detail'],
  };
}

describe('autoheal explain agrees with the redrive handler', () => {
  let table: IdempotencyTable;
  const setup: ExplainSetup = {
    config,
    liveSince: liveSinceFor(config, LIVE_SINCE),
    statesArnPrefix: STATES_ARN_PREFIX,
  };

  beforeEach(async () => {
    resetRedriveMocks();
    table = await createIdempotencyTable();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await table.dispose();
  });

  /**
   * Runs the real handler on the events (batches of 10, as SQS delivers
   * them) and returns, per event, the handler's logged verdict and whether
   * it called DescribeExecution, beside explain's.
   */
  async function compare(events: readonly StatusChangeEvent[], now: number) {
    describeAnswers(events, now);
    const logger = new Logger({ serviceName: REDRIVE_SERVICE_NAME, logLevel: 'INFO' });
    const { handler } = redriveHandler(table, config, logger, setup.liveSince, now);
    const records: SQSRecord[] = events.map((event, i) =>
      sqsRecord(JSON.stringify(event), { messageId: `msg-${i}` }),
    );
    const messageIdOf = new Map(events.map((e, i) => [e.detail.executionArn, `msg-${i}`]));
    const logs = captureLogs();
    for (let i = 0; i < records.length; i += 10) {
      const result = await handler(sqsEvent(...records.slice(i, i + 10)), lambdaContext());
      expect(result).toEqual({ batchItemFailures: [] });
    }
    logs.restore();
    const handled = handlerVerdicts(logs.lines(), messageIdOf);
    const described = new Set(
      sfnMock.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input.executionArn),
    );
    return events.map((event, i) => {
      const explained = explainedVerdict(setup, event, now);
      return {
        event: event.id,
        handler: {
          verdict: handled.get(`msg-${i}`),
          describes: described.has(event.detail.executionArn),
        },
        explain: explained,
      };
    });
  }

  it.each([...EVENT_FIXTURES, ...INVALID_EVENT_FIXTURES])(
    'names the handler’s decision on the fixture event %s',
    async (fixture) => {
      // Prepare
      const event = loadEvent(fixture);

      // Act
      const [result] = await compare([event], AFTER_EVERY_FIXTURE);

      // Assess
      expect(result.handler.verdict).toBeDefined();
      expect(result.explain.verdict).toEqual(result.handler.verdict);
      expect(result.explain.describes).toBe(result.handler.describes);
    },
  );

  it('names the handler’s decision on 1,000 generated events (status, redrive count, errors, stop dates, scope, observe-only)', async () => {
    // Prepare
    const random = prng(11);
    const events = Array.from({ length: 1000 }, () => generatedEvent(random, NOW));

    // Act
    const results = await compare(events, NOW);

    // Assess: every verdict agrees, and the generator reached every kind of decision
    const disagreements = results.filter(
      (r) =>
        JSON.stringify(r.explain.verdict) !== JSON.stringify(r.handler.verdict) ||
        r.explain.describes !== r.handler.describes,
    );
    expect(disagreements).toEqual([]);
    const kinds = new Set(
      results.map((r) => [r.explain.verdict.action, r.explain.verdict.reason ?? ''].join(':')),
    );
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining([
        'defer:',
        'give-up:max-redrives',
        'ignore:map-run-child',
        'ignore:not-a-failure',
        'ignore:redrive-in-progress',
        'ignore:status-not-configured',
        'park:',
        'redrive:',
        'skip:before-live-healing',
        'skip:error-denied',
        'skip:error-not-allowed',
        'skip:not-redrivable',
        'skip:redrive-window-expired',
      ]),
    );
    expect(results.some((r) => r.explain.verdict.observed)).toBe(true);
    expect(results.some((r) => r.explain.describes)).toBe(true);
  }, 180_000);

  it('offline, needs no AWS at all: no deployment, no call, the decision and its rule', async () => {
    // Prepare
    const eventFile = join(configDir, 'payments.json');
    const event = generatedEvent(prng(3), NOW);
    event.detail = {
      ...event.detail,
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:orders-payments:order-1`,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders-payments`,
      status: 'FAILED',
      redriveCount: 0,
      redriveStatus: 'REDRIVABLE',
      stopDate: NOW - 5 * MINUTE_MS,
      error: 'Payment.Declined',
    };
    event.time = new Date(NOW - 5 * MINUTE_MS).toISOString();
    writeFileSync(eventFile, JSON.stringify(event));
    const deployment = jest.fn();

    // Act
    const run = await runAutoheal(['explain', '--event', eventFile, '--config', configFile], {
      now: () => NOW,
      deployment,
      clients: {} as CliClients,
    });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(deployment).not.toHaveBeenCalled();
    expect(sfnMock.calls()).toHaveLength(0);
    expect(run.stdout).toMatch(/^Decision\s+SKIP$/m);
    expect(run.stdout).toContain(
      'skip (error-denied): error Payment.Declined matches deny entry Payment.*',
    );
    expect(run.stdout).toContain('defaults + override "orders-payments"');
    expect(run.stdout).toContain('in scope: prefix orders-');
  });

  it('reads the config from the project’s cdk.json offline', async () => {
    // Act
    const run = await runAutoheal(
      [
        'explain',
        '--event',
        join(__dirname, '..', 'fixtures', 'events', 'failed-deterministic-error.json'),
        '--config',
        join(__dirname, '..', '..', 'cdk.json'),
      ],
      { now: () => AFTER_EVERY_FIXTURE, clients: {} as CliClients },
    );

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('in scope: prefix autoheal-demo-');
    expect(run.stdout).toContain(
      'skip (error-denied): error States.Runtime matches deny entry States.Runtime',
    );
    expect(run.stdout).toContain('the handler would confirm the facts with DescribeExecution');
  });

  it.each([
    [['explain'], 'Give either an EXECUTION_ARN or --event FILE'],
    [
      ['explain', 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders'],
      'is not an execution ARN',
    ],
    [
      ['explain', '--event', '/nonexistent/event.json', '--config', configFile],
      'Cannot read the event file',
    ],
  ])('refuses %j with one line and no AWS call', async (argv, message) => {
    // Act
    const run = await runAutoheal(argv, {
      deployment: async () => ({
        stackName: 'Autoheal',
        region: REGION,
        idempotencyKeyPrefix: 'autoheal',
        idempotencyTableName: table.tableName,
        redrive: {
          workQueueUrl: '',
          deadLetterQueueUrl: '',
          statesArnPrefix: STATES_ARN_PREFIX,
          config,
          liveSince: setup.liveSince,
        },
      }),
      clients: { sfn: new SFNClient({}) } as CliClients,
    });

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('autoheal explain through the real SDK', () => {
  const statesArnPrefix = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:`;
  const machineArn = (name: string) => `${statesArnPrefix}stateMachine:${name}`;
  const executionArnOf = (machine: string, name: string) =>
    `${statesArnPrefix}execution:${machine}:${name}`;
  const breakerConfig = parseRedriveConfig({
    ...rawConfig,
    breaker: { enabled: true },
  });
  let endpoint: LocalAwsEndpoint;
  let table: IdempotencyTable;
  let stateTable: StateTable;
  let sfn: SFNClient;
  let deployment: Deployment;

  beforeAll(() => {
    // The first suite mocks every SFNClient, SNSClient and SQSClient; this one talks to the endpoint.
    sfnMock.restore();
    snsMock.restore();
    sqsMock.restore();
  });

  beforeEach(async () => {
    endpoint = await LocalAwsEndpoint.start({ clock: () => NOW });
    table = await createIdempotencyTable();
    stateTable = await createStateTable();
    sfn = new SFNClient({ endpoint: endpoint.url, region: LOCAL_REGION });
    deployment = {
      stackName: 'Autoheal',
      region: LOCAL_REGION,
      idempotencyKeyPrefix: 'autoheal',
      idempotencyTableName: table.tableName,
      stateTableName: stateTable.tableName,
      redrive: {
        workQueueUrl: `${endpoint.url}/${LOCAL_ACCOUNT}/autoheal-redrive-work`,
        deadLetterQueueUrl: `${endpoint.url}/${LOCAL_ACCOUNT}/autoheal-redrive-dlq`,
        statesArnPrefix,
        config: breakerConfig,
        liveSince: liveSinceFor(breakerConfig, LIVE_SINCE),
      },
    };
  });

  afterEach(async () => {
    sfn.destroy();
    await endpoint.stop();
    await table.dispose();
    await stateTable.dispose();
  });

  /** The redrive handler as deployed: real SDK clients on the endpoint and DynamoDB Local. */
  function deployedHandler() {
    const { logger, metrics } = powertools(REDRIVE_SERVICE_NAME);
    const notices: NoticeSender = {
      send: async () => ({ published: true }),
    } as unknown as NoticeSender;
    return createRedriveHandler({
      config: breakerConfig,
      sfn,
      sns: new SNSClient({ endpoint: endpoint.url }),
      sqs: new SQSClient({ endpoint: endpoint.url }),
      persistenceStore: table.persistenceLayer(),
      noticeTopicArn: 'arn:aws:sns:eu-central-1:000000000000:autoheal-notices',
      notices,
      workQueueUrl: deployment.redrive?.workQueueUrl ?? '',
      deadLetterQueueUrl: deployment.redrive?.deadLetterQueueUrl ?? '',
      maxReceiveCount: 5,
      logger,
      metrics,
      now: () => NOW,
      statesArnPrefix,
      breakerStore: createBreakerStore({
        dynamodb: stateTable.client,
        tableName: stateTable.tableName,
        optionsFor: breakerOptionsByArn(breakerConfig),
      }),
      liveSince: deployment.redrive?.liveSince ?? liveSinceFor(breakerConfig),
    });
  }

  const cliClients = (): CliClients => ({ sfn, dynamodb: table.client }) as unknown as CliClients;

  it('describes the execution, names the deny entry that skips its current failure, and shows the record of the failure it redrove', async () => {
    // Prepare: failure #1 was redriven by the handler; the run failed again with a denied error
    const executionArn = executionArnOf('orders-payments', 'order-1042');
    endpoint.addExecution({
      executionArn,
      stateMachineArn: machineArn('orders-payments'),
      status: 'FAILED',
      startDate: NOW - HOUR_MS,
      stopDate: NOW - 30 * MINUTE_MS,
      error: 'Lambda.ServiceException',
      redriveCount: 1,
    });
    const handler = deployedHandler();
    const event = endpoint.statusChangeEvent(executionArn);
    await handler(sqsEvent(sqsRecord(JSON.stringify(event))), lambdaContext());
    expect(endpoint.execution(executionArn)?.redrives).toHaveLength(1);
    endpoint.setExecutionStatus(executionArn, 'FAILED', {
      error: 'Payment.Declined',
      stopDate: NOW - MINUTE_MS,
    });

    // Act
    const run = await runAutoheal(['explain', executionArn], {
      now: () => NOW,
      deployment: async () => deployment,
      clients: cliClients(),
    });

    // Assess
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('FAILED · redriveCount 2 · REDRIVABLE · error Payment.Declined');
    expect(run.stdout).toContain('(from DescribeExecution, now)');
    expect(run.stdout).toMatch(/^Decision\s+SKIP$/m);
    expect(run.stdout).toContain(
      'skip (error-denied): error Payment.Declined matches deny entry Payment.*',
    );
    expect(run.stdout).toContain('Recorded for failures #0..#2');
    expect(run.stdout).toMatch(/│ #1\s+│ automatic │ COMPLETED │ redriven │/);
    expect(run.stdout).not.toMatch(/│ #0 /);
    expect(run.stdout).toMatch(/^Breaker\s+closed$/m);
    expect(
      endpoint.calls.filter((c) => c.operation === 'DescribeExecution' && c.target === executionArn)
        .length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('shows the open breaker and the failure it holds, and --json carries every field', async () => {
    // Prepare: an operator forced the breaker open; the handler held the failure
    const executionArn = executionArnOf('orders-fulfilment', 'order-2001');
    endpoint.addExecution({
      executionArn,
      stateMachineArn: machineArn('orders-fulfilment'),
      status: 'FAILED',
      startDate: NOW - HOUR_MS,
      stopDate: NOW - 30 * MINUTE_MS,
      error: 'Lambda.ServiceException',
      redriveCount: 0,
    });
    const store = createBreakerStore({
      dynamodb: stateTable.client,
      tableName: stateTable.tableName,
      optionsFor: breakerOptionsByArn(breakerConfig),
    });
    await forceBreaker(store, machineArn('orders-fulfilment'), 'open', {
      by: 'alice',
      reason: 'payments API maintenance',
      now: NOW - MINUTE_MS,
    });
    const handler = deployedHandler();
    await handler(
      sqsEvent(sqsRecord(JSON.stringify(endpoint.statusChangeEvent(executionArn)))),
      lambdaContext(),
    );
    expect(endpoint.execution(executionArn)?.redrives).toHaveLength(0);

    // Act
    const text = await runAutoheal(['explain', executionArn], {
      now: () => NOW,
      deployment: async () => deployment,
      clients: cliClients(),
    });
    const json = await runAutoheal(['explain', executionArn, '--json'], {
      now: () => NOW,
      deployment: async () => deployment,
      clients: cliClients(),
    });

    // Assess
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/^Decision\s+REDRIVE \(the breaker is open/m);
    expect(text.stdout).toMatch(/^Breaker\s+open \(forced by alice: payments API maintenance\)/m);
    expect(text.stdout).toMatch(/^Held\s+held since .* \(failure #0, Lambda.ServiceException\)/m);
    expect(text.stdout).toContain('none: Autoheal has not acted on any failure');
    const explanation = JSON.parse(json.stdout) as Explanation;
    expect(explanation).toMatchObject({
      factsFrom: 'DescribeExecution',
      action: 'redrive',
      decision: { action: 'redrive', attempt: 1 },
      breaker: { effectiveState: 'open', forced: { state: 'open', by: 'alice' } },
      held: { executionArn, redriveCount: 0, errorName: 'Lambda.ServiceException' },
      records: [],
      scope: { inScope: true, coveredBy: ['prefix orders-'] },
    });
  });

  it('explains an event file against the deployed config, with what the handler recorded for its failure', async () => {
    // Prepare: the handler gave up on failure #3; the operator saved its event
    const executionArn = executionArnOf('orders-fulfilment', 'order-3003');
    endpoint.addExecution({
      executionArn,
      stateMachineArn: machineArn('orders-fulfilment'),
      status: 'FAILED',
      startDate: NOW - HOUR_MS,
      stopDate: NOW - 30 * MINUTE_MS,
      error: 'Lambda.ServiceException',
      redriveCount: 3,
    });
    const event = endpoint.statusChangeEvent(executionArn);
    await deployedHandler()(sqsEvent(sqsRecord(JSON.stringify(event))), lambdaContext());
    const eventFile = join(configDir, 'gave-up.json');
    writeFileSync(eventFile, JSON.stringify(event));
    const calls = endpoint.calls.length;

    // Act
    const run = await runAutoheal(['explain', '--event', eventFile], {
      now: () => NOW,
      deployment: async () => deployment,
      clients: cliClients(),
    });

    // Assess: decided on the event's facts (no Step Functions call), records read from the table
    expect(run.exitCode).toBe(0);
    expect(endpoint.calls.length).toBe(calls);
    expect(run.stdout).toContain('(from the event)');
    expect(run.stdout).toMatch(/^Decision\s+GIVE-UP$/m);
    expect(run.stdout).toContain('give up (max-redrives): redriven 3 time(s); maxRedrives is 3');
    expect(run.stdout).toMatch(/│ #3\s+│ automatic │ COMPLETED │ gave-up\s+│ max-redrives │/);
    expect(run.stdout).toContain('the handler would confirm the facts with DescribeExecution');
  });

  it('skips an execution Step Functions does not know, as the handler records it', async () => {
    // Act
    const run = await runAutoheal(
      ['explain', executionArnOf('orders-fulfilment', 'gone'), '--json'],
      {
        now: () => NOW,
        deployment: async () => deployment,
        clients: cliClients(),
      },
    );

    // Assess
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      action: 'skip',
      decision: { action: 'skip', reason: 'execution-not-found' },
    });
  });
});
