/**
 * The local AWS endpoint's scripted downstreams, through the real SDK: a
 * redrive made while a state machine's downstream is broken fails again, one
 * made once it is healthy succeeds, and each sends the status-change events
 * Step Functions sends; on a simulated clock, SQS delays and API quotas run in
 * simulated time.
 */
import { DescribeExecutionCommand, RedriveExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  brokenBetween,
  flapping,
  LocalAwsEndpoint,
  type StatusChangeEvent,
} from '../support/local-aws/local-aws-endpoint';
import { SimulatedClock } from '../support/resilience/simulated-clock';

const REGION = 'eu-central-1';
const MACHINE_ARN = `arn:aws:states:${REGION}:123456789012:stateMachine:payments`;
const EXECUTION_ARN = `arn:aws:states:${REGION}:123456789012:execution:payments:run-1`;
const T0 = Date.parse('2026-11-30T09:00:00Z');
const MINUTE_MS = 60_000;

let endpoint: LocalAwsEndpoint;
let clock: SimulatedClock;
let sfn: SFNClient;
let sqs: SQSClient;
let events: StatusChangeEvent[];

beforeEach(async () => {
  clock = new SimulatedClock(T0);
  endpoint = await LocalAwsEndpoint.start({
    simulatedClock: clock.now,
    faults: { quotas: { RedriveExecution: { burst: 1, perSecond: 1 } } },
  });
  sfn = new SFNClient({ endpoint: endpoint.url, region: REGION, maxAttempts: 1 });
  sqs = new SQSClient({ endpoint: endpoint.url, region: REGION });
  events = [];
  endpoint.onStatusChange((event) => events.push(event));
  endpoint.addExecution({
    executionArn: EXECUTION_ARN,
    stateMachineArn: MACHINE_ARN,
    status: 'FAILED',
    startDate: T0 - MINUTE_MS,
    stopDate: T0,
    error: 'Lambda.ServiceException',
  });
});

afterEach(async () => {
  sfn.destroy();
  sqs.destroy();
  await endpoint.stop();
});

/** Redrives the execution at `at` (simulated) and lets its run end. */
async function redriveAt(at: number, clientToken: string) {
  clock.skipTo(at);
  await sfn.send(new RedriveExecutionCommand({ executionArn: EXECUTION_ARN, clientToken }));
  clock.skipTo(at + 5_000);
  endpoint.settleDueExecutions();
  return sfn.send(new DescribeExecutionCommand({ executionArn: EXECUTION_ARN }));
}

const summary = (e: StatusChangeEvent) => ({
  status: e.detail.status,
  redriveCount: e.detail.redriveCount,
  redriveStatus: e.detail.redriveStatus,
  error: e.detail.error,
});

describe('a scripted downstream', () => {
  it('fails a redrive made while broken again and succeeds one made after, with the events Step Functions sends', async () => {
    // Prepare
    endpoint.scriptDownstream(MACHINE_ARN, {
      broken: brokenBetween(T0, T0 + 2 * MINUTE_MS),
      runMs: 2_000,
    });

    // Act
    const whileBroken = await redriveAt(T0 + MINUTE_MS, 'attempt-1');
    const afterRecovery = await redriveAt(T0 + 3 * MINUTE_MS, 'attempt-2');

    // Assess
    expect(whileBroken).toMatchObject({
      status: 'FAILED',
      redriveCount: 1,
      error: 'Lambda.ServiceException',
    });
    expect((whileBroken.stopDate?.getTime() ?? 0) - (whileBroken.redriveDate?.getTime() ?? 0)).toBe(
      2_000,
    );
    expect(afterRecovery).toMatchObject({ status: 'SUCCEEDED', redriveCount: 2 });
    expect(events.map(summary)).toEqual([
      {
        status: 'RUNNING',
        redriveCount: 1,
        redriveStatus: 'REDRIVE_IN_PROGRESS',
        error: null,
      },
      {
        status: 'FAILED',
        redriveCount: 1,
        redriveStatus: 'REDRIVABLE',
        error: 'Lambda.ServiceException',
      },
      { status: 'RUNNING', redriveCount: 2, redriveStatus: 'REDRIVE_IN_PROGRESS', error: null },
      { status: 'SUCCEEDED', redriveCount: 2, redriveStatus: 'NOT_REDRIVABLE', error: null },
    ]);
    expect(events[1]).toMatchObject({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      account: '123456789012',
      region: REGION,
      resources: [EXECUTION_ARN],
      time: new Date(T0 + MINUTE_MS + 2_000).toISOString().replace('.000Z', 'Z'),
    });
  });

  it.each([
    { minute: 0.5, status: 'FAILED' },
    { minute: 1.5, status: 'SUCCEEDED' },
    { minute: 2.5, status: 'FAILED' },
    { minute: 4.5, status: 'SUCCEEDED' },
  ])(
    'flapping (broken 1 min, healthy 1 min, for 4 min): a redrive at minute $minute ends $status',
    async ({ minute, status }) => {
      // Prepare
      endpoint.scriptDownstream(MACHINE_ARN, {
        broken: flapping({
          from: T0,
          brokenMs: MINUTE_MS,
          healthyMs: MINUTE_MS,
          until: T0 + 4 * MINUTE_MS,
        }),
      });

      // Act
      const execution = await redriveAt(T0 + minute * MINUTE_MS, 'attempt-1');

      // Assess
      expect(execution.status).toBe(status);
    },
  );

  it('sends no event for the executions of a machine without a script', async () => {
    // Act
    const execution = await redriveAt(T0 + MINUTE_MS, 'attempt-1');

    // Assess: the redrive is made, and the execution runs on: nothing settles it.
    expect(execution).toMatchObject({ status: 'RUNNING', redriveCount: 1 });
    expect(events).toEqual([]);
    expect(endpoint.nextSettlementAt()).toBeUndefined();
  });
});

describe('on a simulated clock', () => {
  it('delays SQS messages by simulated seconds: skipping the clock makes a delayed message receivable', async () => {
    // Prepare
    const queueUrl = endpoint.createQueue('work');
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 600 }),
    );
    const early = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    const visibleAt = endpoint.nextVisibleAt('work');

    // Act
    clock.skipTo(T0 + 601_000);
    const late = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));

    // Assess
    expect(early.Messages).toBeUndefined();
    expect(visibleAt).toBeGreaterThanOrEqual(T0 + 600_000);
    expect(late.Messages?.map((m) => m.Body)).toEqual(['later']);
    expect(Number(late.Messages?.[0]?.Attributes?.SentTimestamp ?? 0)).toBeLessThan(T0 + 1_000);
  });

  it('refills a quota by simulated seconds', async () => {
    // Prepare: a burst of 1 at 1 a second; a first redrive takes the token.
    const other = EXECUTION_ARN.replace('run-1', 'run-2');
    endpoint.addExecution({
      executionArn: other,
      stateMachineArn: MACHINE_ARN,
      status: 'FAILED',
      startDate: T0 - MINUTE_MS,
      stopDate: T0,
    });
    const redrive = (executionArn: string) =>
      sfn.send(new RedriveExecutionCommand({ executionArn, clientToken: 'attempt-1' }));
    await redrive(EXECUTION_ARN);

    // Act: no real second passes between the two tries, only simulated ones.
    const throttled = await redrive(other).catch((error: Error) => error.name);
    clock.skipTo(clock.now() + 2_000);
    const admitted = await redrive(other);

    // Assess
    expect(throttled).toBe('ThrottlingException');
    expect(admitted.redriveDate).toBeDefined();
  });
});
