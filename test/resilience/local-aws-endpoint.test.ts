/**
 * The local AWS endpoint, driven by the real AWS SDK v3 clients: what a suite
 * or benchmark built on it can rely on (the services' rules, the SDK's error
 * names and retries, the faults it injects).
 */
import {
  AppflowClient,
  type AppflowClientConfig,
  DescribeFlowCommand,
  StartFlowCommand,
} from '@aws-sdk/client-appflow';
import {
  DescribeExecutionCommand,
  type ExecutionListItem,
  ExecutionNotRedrivable,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  paginateListExecutions,
  RedriveExecutionCommand,
  SFNClient,
  type SFNClientConfig,
} from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/nested-clients/sts';
import {
  type FaultOptions,
  LocalAwsEndpoint,
  type LocalAwsService,
} from '../support/local-aws/local-aws-endpoint';
import { sleep } from '../support/timing';

const REGION = 'eu-central-1';
const ACCOUNT = '123456789012';
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:orders`;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Real ms per simulated SQS second in these tests. */
const TIME_SCALE = 10;

const executionArn = (name: string, machine = 'orders') =>
  `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine}:${name}`;

let endpoint: LocalAwsEndpoint;
const clients: { destroy(): void }[] = [];

function track<T extends { destroy(): void }>(client: T): T {
  clients.push(client);
  return client;
}
const sfnClient = (config: SFNClientConfig = {}) =>
  track(new SFNClient({ endpoint: endpoint.url, region: REGION, ...config }));
const appflowClient = (config: AppflowClientConfig = {}) =>
  track(new AppflowClient({ endpoint: endpoint.url, region: REGION, ...config }));
const sqsClient = (config: SQSClientConfig = {}) =>
  track(new SQSClient({ endpoint: endpoint.url, region: REGION, ...config }));
/** STS's nested client has no default credential chain: the caller's credentials are given. */
const stsClient = (config: STSClientConfig = {}) =>
  track(
    new STSClient({
      endpoint: endpoint.url,
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...config,
    }),
  );
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/Autoheal-RedriveHandlerScopeRole1`;

/** Registers a FAILED execution of `orders` that stopped a minute ago. */
function failedExecution(name: string, fields: { startDate?: number; stopDate?: number } = {}) {
  const arn = executionArn(name);
  const stopDate = fields.stopDate ?? Date.now() - MINUTE_MS;
  endpoint.addExecution({
    executionArn: arn,
    stateMachineArn: MACHINE_ARN,
    status: 'FAILED',
    startDate: fields.startDate ?? stopDate - MINUTE_MS,
    stopDate,
    error: 'States.TaskFailed',
    cause: 'boom',
  });
  return arn;
}

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  endpoint = await LocalAwsEndpoint.start({ timeScale: TIME_SCALE });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await endpoint.stop();
});

describe('Step Functions', () => {
  it('redrives once per client token, refuses another token until the execution fails again', async () => {
    // Prepare
    const arn = failedExecution('run-1');
    const sfn = sfnClient({ maxAttempts: 1 });

    // Act
    const first = await sfn.send(
      new RedriveExecutionCommand({ executionArn: arn, clientToken: 'token-a' }),
    );
    const replay = await sfn.send(
      new RedriveExecutionCommand({ executionArn: arn, clientToken: 'token-a' }),
    );
    const refused = await rejection(
      sfn.send(new RedriveExecutionCommand({ executionArn: arn, clientToken: 'token-b' })),
    );
    endpoint.setExecutionStatus(arn, 'FAILED', { error: 'States.TaskFailed' });
    const second = await sfn.send(
      new RedriveExecutionCommand({ executionArn: arn, clientToken: 'token-b' }),
    );

    // Assess
    expect(first.redriveDate).toBeInstanceOf(Date);
    expect(replay.redriveDate).toEqual(first.redriveDate);
    expect(refused).toBeInstanceOf(ExecutionNotRedrivable);
    expect(refused.name).toBe('ExecutionNotRedrivable');
    expect(refused.$fault).toBe('client');
    expect(endpoint.execution(arn)).toMatchObject({
      status: 'RUNNING',
      redriveCount: 2,
      redrives: [
        { at: first.redriveDate?.getTime(), clientToken: 'token-a' },
        { at: second.redriveDate?.getTime(), clientToken: 'token-b' },
      ],
    });
    expect(endpoint.calls.map((c) => c.outcome)).toEqual(['ok', 'ok', 'error', 'ok']);
    expect(endpoint.calls[2]).toMatchObject({
      errorName: 'ExecutionNotRedrivable',
      target: arn,
      clientToken: 'token-b',
    });
  });

  it('gives a redrive without a client token one the SDK generated', async () => {
    // Prepare
    const arn = failedExecution('run-1');

    // Act
    await sfnClient().send(new RedriveExecutionCommand({ executionArn: arn }));

    // Assess
    expect(endpoint.calls[0]?.clientToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each<[string, string, () => string]>([
    ['an unknown execution', 'ExecutionDoesNotExist', () => executionArn('nobody')],
    ['a malformed ARN', 'InvalidArn', () => 'not-an-arn'],
    [
      'a SUCCEEDED execution',
      'ExecutionNotRedrivable',
      () => {
        const arn = failedExecution('done');
        endpoint.setExecutionStatus(arn, 'SUCCEEDED');
        return arn;
      },
    ],
    [
      'an execution stopped 14 days ago',
      'ExecutionNotRedrivable',
      () => failedExecution('old', { stopDate: Date.now() - 14 * DAY_MS }),
    ],
    [
      'an Express execution',
      'ExecutionNotRedrivable',
      () => {
        const arn = `arn:aws:states:${REGION}:${ACCOUNT}:express:fast:run-1:abc`;
        endpoint.addExecution({
          executionArn: arn,
          stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:fast`,
          status: 'FAILED',
          startDate: Date.now() - MINUTE_MS,
          type: 'EXPRESS',
        });
        return arn;
      },
    ],
  ])('refuses to redrive %s with %s', async (_case, errorName, arrange) => {
    // Prepare
    const arn = arrange();

    // Act
    const error = await rejection(
      sfnClient({ maxAttempts: 1 }).send(new RedriveExecutionCommand({ executionArn: arn })),
    );

    // Assess
    expect(error.name).toBe(errorName);
    expect(endpoint.execution(arn)?.redriveCount ?? 0).toBe(0);
  });

  it('describes an execution with its dates as Dates and its redrive status', async () => {
    // Prepare
    const stopDate = Date.now() - 20 * DAY_MS;
    const arn = failedExecution('run-1', { stopDate: Date.now() - MINUTE_MS });
    const sfn = sfnClient();
    const old = failedExecution('run-old', { startDate: stopDate - MINUTE_MS, stopDate });

    // Act
    const redrivable = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    await sfn.send(new RedriveExecutionCommand({ executionArn: arn }));
    const running = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    const expired = await sfn.send(new DescribeExecutionCommand({ executionArn: old }));

    // Assess
    expect(redrivable).toMatchObject({
      executionArn: arn,
      stateMachineArn: MACHINE_ARN,
      name: 'run-1',
      status: 'FAILED',
      error: 'States.TaskFailed',
      cause: 'boom',
      redriveCount: 0,
      redriveStatus: 'REDRIVABLE',
    });
    expect(redrivable.startDate).toBeInstanceOf(Date);
    expect(redrivable.redriveStatusReason).toBeUndefined();
    expect(running).toMatchObject({
      status: 'RUNNING',
      redriveCount: 1,
      redriveStatus: 'NOT_REDRIVABLE',
    });
    expect(running.redriveDate).toBeInstanceOf(Date);
    expect(running.stopDate).toBeUndefined();
    expect(expired.stopDate).toEqual(new Date(stopDate));
    expect(expired.redriveStatusReason).toMatch(/14 days/);
  });

  it('lists executions newest first, page by page, filtered by status and redrive', async () => {
    // Prepare
    const start = Date.now() - 10 * MINUTE_MS;
    for (let i = 0; i < 5; i++) {
      endpoint.addExecution({
        executionArn: executionArn(`run-${i}`),
        stateMachineArn: MACHINE_ARN,
        status: i % 2 === 0 ? 'FAILED' : 'SUCCEEDED',
        startDate: start + i * 1000,
        stopDate: start + i * 1000 + 500,
      });
    }
    const sfn = sfnClient();
    await sfn.send(new RedriveExecutionCommand({ executionArn: executionArn('run-0') }));

    // Act
    const pages: (ExecutionListItem[] | undefined)[] = [];
    for await (const page of paginateListExecutions(
      { client: sfn, pageSize: 2 },
      { stateMachineArn: MACHINE_ARN },
    )) {
      pages.push(page.executions);
    }
    const failed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN, statusFilter: 'FAILED' }),
    );
    const redriven = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN, redriveFilter: 'REDRIVEN' }),
    );
    const badToken = await rejection(
      sfn.send(new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN, nextToken: 'nope' })),
    );

    // Assess
    expect(pages.map((p) => p?.map((e) => e.name))).toEqual([
      ['run-4', 'run-3'],
      ['run-2', 'run-1'],
      ['run-0'],
    ]);
    expect(pages[0]?.[0]?.startDate).toEqual(new Date(start + 4000));
    expect(failed.executions?.map((e) => e.name)).toEqual(['run-4', 'run-2']);
    expect(failed.nextToken).toBeUndefined();
    expect(redriven.executions).toEqual([
      expect.objectContaining({
        name: 'run-0',
        status: 'RUNNING',
        redriveCount: 1,
        redriveDate: expect.any(Date),
      }),
    ]);
    expect(badToken.name).toBe('InvalidToken');
  });

  it('lists the registered state machines', async () => {
    // Prepare
    failedExecution('run-1');
    endpoint.addStateMachine(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:billing`);

    // Act
    const listed = await sfnClient().send(new ListStateMachinesCommand({ maxResults: 1 }));

    // Assess
    expect(listed.stateMachines).toEqual([
      expect.objectContaining({
        name: 'billing',
        type: 'STANDARD',
        creationDate: expect.any(Date),
      }),
    ]);
    expect(listed.nextToken).toEqual(expect.any(String));
  });

  it('answers an operation it does not serve with UnknownOperationException', async () => {
    // Act
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.StartExecution',
      },
      body: '{}',
    });

    // Assess
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      __type: expect.stringMatching(/#UnknownOperationException$/),
    });
  });
});

describe('faults', () => {
  it('admits a quota burst at once, throttles the rest as ThrottlingException, and refills at its rate', async () => {
    // Prepare
    const arn = failedExecution('run-1');
    const quota = { burst: 10, perSecond: 10 };
    endpoint.setFaults({ quotas: { DescribeExecution: quota } });
    const sfn = sfnClient({ maxAttempts: 1 });
    const describeAll = (count: number) =>
      Promise.allSettled(
        Array.from({ length: count }, () =>
          sfn.send(new DescribeExecutionCommand({ executionArn: arn })),
        ),
      );
    const admitted = (results: PromiseSettledResult<unknown>[]) =>
      results.filter((r) => r.status === 'fulfilled').length;

    // Act
    const burst = await describeAll(quota.burst + 2);
    const burstEnd = Date.now();
    // 450 ms, not 400: a timer may fire a millisecond before Date.now() says its time has passed.
    await sleep(450);
    const refillStart = Date.now();
    const refill = await describeAll(10);
    const refillEnd = Date.now();

    // Assess
    expect(admitted(burst)).toBe(quota.burst);
    const rejected = burst.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(rejected.map((e) => e.name)).toEqual(['ThrottlingException', 'ThrottlingException']);
    // Tokens refilled between the burst and the refill calls: at least the quiet time's worth, at most one more than the whole time's.
    const fewest = Math.floor(((refillStart - burstEnd) * quota.perSecond) / 1000);
    const most = 1 + Math.floor(((refillEnd - burstEnd) * quota.perSecond) / 1000);
    expect(fewest).toBeGreaterThanOrEqual(4);
    expect(admitted(refill)).toBeGreaterThanOrEqual(fewest);
    expect(admitted(refill)).toBeLessThanOrEqual(most);
    expect(endpoint.countCalls({ operation: 'DescribeExecution', outcome: 'throttled' })).toBe(
      22 - quota.burst - admitted(refill),
    );
  });

  it('throttles AppFlow with HTTP 429 and keeps throttled calls away from the registry', async () => {
    // Prepare
    endpoint.addFlow({ flowName: 'export', triggerType: 'OnDemand' });
    endpoint.setFaults({ quotas: { StartFlow: { burst: 0, perSecond: 0 } } });

    // Act
    const error = await rejection(
      appflowClient({ maxAttempts: 1 }).send(new StartFlowCommand({ flowName: 'export' })),
    );

    // Assess
    expect(error.name).toBe('ThrottlingException');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(429);
    expect(endpoint.flowRuns('export')).toEqual([]);
    expect(endpoint.calls).toEqual([
      expect.objectContaining({ outcome: 'throttled', errorName: 'ThrottlingException' }),
    ]);
  });

  /** The services the handlers call (the operator CLI's CloudFormation and Lambda reads are tested in test/cli). */
  type HandlerService = Exclude<LocalAwsService, 'cloudformation' | 'lambda'>;
  /** Sends one call of the service to the fixture with up to 3 attempts. */
  const oneCallOf: Record<HandlerService, () => Promise<unknown>> = {
    sfn: () =>
      sfnClient({ maxAttempts: 3 }).send(
        new DescribeExecutionCommand({ executionArn: executionArn('run-1') }),
      ),
    appflow: () =>
      appflowClient({ maxAttempts: 3 }).send(new DescribeFlowCommand({ flowName: 'export' })),
    sqs: () => sqsClient({ maxAttempts: 3 }).send(new GetQueueUrlCommand({ QueueName: 'work' })),
    sts: () =>
      stsClient({ maxAttempts: 3 }).send(
        new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'autoheal-redrive' }),
      ),
  };

  it.each<[HandlerService, string[]]>([
    ['sfn', ['InternalFailure', 'ServiceUnavailable', 'InternalFailure']],
    ['appflow', ['InternalServerException', 'InternalServerException', 'InternalServerException']],
    ['sqs', ['InternalFailure', 'ServiceUnavailable', 'InternalFailure']],
    ['sts', ['InternalFailure', 'ServiceUnavailable', 'InternalFailure']],
  ])(
    'answers every %s call with a 5xx the SDK sees as a server fault and retries',
    async (service, names) => {
      // Prepare
      failedExecution('run-1');
      endpoint.addFlow({ flowName: 'export', triggerType: 'OnDemand' });
      endpoint.createQueue('work');
      endpoint.setFaults({ serverErrorRate: 1, services: [service] });

      // Act
      const error = await rejection(oneCallOf[service]());

      // Assess
      expect(error.$fault).toBe('server');
      expect(error.name).toBe(names[2]);
      expect((error.$metadata as { attempts: number }).attempts).toBe(3);
      expect(endpoint.calls.map((c) => c.errorName)).toEqual(names);
      expect(endpoint.countCalls({ service, outcome: 'server-error' })).toBe(3);
    },
  );

  it('answers RedriveExecution with ExecutionLimitExceeded without redriving', async () => {
    // Prepare
    const arn = failedExecution('run-1');
    endpoint.setFaults({ executionLimitExceededRate: 1 });
    const sfn = sfnClient({ maxAttempts: 1 });

    // Act
    const error = await rejection(sfn.send(new RedriveExecutionCommand({ executionArn: arn })));
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));

    // Assess
    expect(error.name).toBe('ExecutionLimitExceeded');
    expect(described.status).toBe('FAILED');
    expect(endpoint.countCalls({ outcome: 'execution-limit' })).toBe(1);
  });

  it('leaves a hung request unanswered: a requestTimeout that throws ends it, stop() ends the rest', async () => {
    // Prepare
    const arn = failedExecution('run-1');
    endpoint.setFaults({ hangRate: 1 });
    const describe = new DescribeExecutionCommand({ executionArn: arn });
    const patient = sfnClient({ maxAttempts: 1 })
      .send(describe)
      .catch((e: Error) => e);

    // Act
    const timedOut = await rejection(
      sfnClient({
        maxAttempts: 1,
        requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
      }).send(describe),
    );
    await endpoint.stop();
    const cutOff = await patient;

    // Assess
    expect(timedOut.name).toBe('TimeoutError');
    expect(cutOff).toBeInstanceOf(Error);
    expect(endpoint.countCalls({ outcome: 'hung' })).toBe(2);
  });

  it('adds latency to the faulted services only', async () => {
    // Prepare
    const arn = failedExecution('run-1');
    const queueUrl = endpoint.createQueue('work');
    endpoint.setFaults({ latencyMs: { min: 150, max: 200 } });

    // Act
    const sfnStart = Date.now();
    await sfnClient().send(new DescribeExecutionCommand({ executionArn: arn }));
    const sfnMs = Date.now() - sfnStart;
    const sqsStart = Date.now();
    await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }));
    const sqsMs = Date.now() - sqsStart;

    // Assess
    expect(sfnMs).toBeGreaterThanOrEqual(150);
    expect(sqsMs).toBeLessThan(150);
  });

  it('fails the same requests for the same seed', async () => {
    // Prepare
    const arn = failedExecution('run-1');
    const faults: FaultOptions = { serverErrorRate: 0.5, seed: 42 };
    const sfn = sfnClient({ maxAttempts: 1 });
    const outcomes = async () => {
      endpoint.setFaults(faults);
      const before = endpoint.calls.length;
      for (let i = 0; i < 20; i++) {
        await sfn.send(new DescribeExecutionCommand({ executionArn: arn })).catch(() => undefined);
      }
      return endpoint.calls.slice(before).map((c) => c.outcome);
    };

    // Act
    const first = await outcomes();
    const second = await outcomes();

    // Assess
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', 'server-error']));
  });
});

describe('AppFlow', () => {
  it('runs an OnDemand flow once per client token', async () => {
    // Prepare
    endpoint.addFlow({ flowName: 'export', triggerType: 'OnDemand' });
    const appflow = appflowClient();

    // Act
    const first = await appflow.send(
      new StartFlowCommand({ flowName: 'export', clientToken: 'tick-1' }),
    );
    const replay = await appflow.send(
      new StartFlowCommand({ flowName: 'export', clientToken: 'tick-1' }),
    );
    const next = await appflow.send(
      new StartFlowCommand({ flowName: 'export', clientToken: 'tick-2' }),
    );

    // Assess
    expect(first.executionId).toEqual(expect.any(String));
    expect(replay.executionId).toBe(first.executionId);
    expect(next.executionId).not.toBe(first.executionId);
    expect(endpoint.flowRuns('export')).toEqual([
      { at: expect.any(Number), clientToken: 'tick-1', executionId: first.executionId },
      { at: expect.any(Number), clientToken: 'tick-2', executionId: next.executionId },
    ]);
  });

  it('activates a suspended Scheduled flow without running it, as DescribeFlow then shows', async () => {
    // Prepare
    endpoint.addFlow({ flowName: 'nightly', triggerType: 'Scheduled', flowStatus: 'Suspended' });
    const appflow = appflowClient();

    // Act
    const started = await appflow.send(
      new StartFlowCommand({ flowName: 'nightly', clientToken: 't' }),
    );
    const described = await appflow.send(new DescribeFlowCommand({ flowName: 'nightly' }));

    // Assess
    expect(started.executionId).toBeUndefined();
    expect(started.flowStatus).toBe('Active');
    expect(described).toMatchObject({
      flowName: 'nightly',
      flowArn: expect.stringMatching(/^arn:aws:appflow:.*:flow\/nightly$/),
      flowStatus: 'Active',
      triggerConfig: { triggerType: 'Scheduled' },
    });
    expect(described.createdAt).toBeInstanceOf(Date);
    expect(endpoint.flowRuns('nightly')).toHaveLength(1);
  });

  it.each<[string, (appflow: AppflowClient) => Promise<unknown>]>([
    ['StartFlow', (appflow) => appflow.send(new StartFlowCommand({ flowName: 'missing' }))],
    ['DescribeFlow', (appflow) => appflow.send(new DescribeFlowCommand({ flowName: 'missing' }))],
  ])('answers %s of an unknown flow with ResourceNotFoundException (404)', async (_op, send) => {
    // Act
    const error = await rejection(send(appflowClient()));

    // Assess
    expect(error.name).toBe('ResourceNotFoundException');
    expect((error.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);
    expect(endpoint.calls).toEqual([
      expect.objectContaining({ outcome: 'error', target: 'missing' }),
    ]);
  });
});

describe('SQS', () => {
  it('sends, receives and deletes with message attributes and the digests SQS computes', async () => {
    // Prepare
    const queueUrl = endpoint.createQueue('work');
    const sqs = sqsClient();

    // Act
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'derp',
        MessageAttributes: { timestamp: { DataType: 'Number', StringValue: '1493147359900' } },
      }),
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const message = received.Messages?.[0];
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }),
    );

    // Assess
    expect(sent.MD5OfMessageBody).toBe('58fd9edd83341c29f1aebba81c31e257');
    expect(sent.MD5OfMessageAttributes).toBe('235c5c510d26fb653d073faed50ae77c');
    expect(received.Messages).toHaveLength(1);
    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: 'derp',
      MD5OfBody: '58fd9edd83341c29f1aebba81c31e257',
      Attributes: { ApproximateReceiveCount: '1' },
      MessageAttributes: { timestamp: { DataType: 'Number', StringValue: '1493147359900' } },
    });
    expect(endpoint.queueDepth('work')).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('sends and deletes in batches, and a long poll returns as soon as a message arrives', async () => {
    // Prepare
    const queueUrl = endpoint.createQueue('work');
    const sqs = sqsClient();
    const polled = Date.now();
    const longPoll = sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 20,
        MaxNumberOfMessages: 10,
      }),
    );
    await sleep(30);

    // Act
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two' },
        ],
      }),
    );
    const received = await longPoll;
    const waitedMs = Date.now() - polled;
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: (received.Messages ?? []).map((m, i) => ({
          Id: `d${i}`,
          ReceiptHandle: m.ReceiptHandle,
        })),
      }),
    );

    // Assess
    expect(sent.Successful?.map((e) => e.Id)).toEqual(['a', 'b']);
    expect(received.Messages?.map((m) => m.Body)).toEqual(['one', 'two']);
    expect(waitedMs).toBeLessThan(20 * TIME_SCALE);
    expect(deleted.Successful).toHaveLength(2);
    expect(endpoint.drain('work')).toEqual([]);
  });

  it('holds a delayed message back for its DelaySeconds', async () => {
    // Prepare
    const queueUrl = endpoint.createQueue('work');
    const sqs = sqsClient();
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'later', DelaySeconds: 5 }),
    );

    // Act
    const early = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    const depthEarly = endpoint.queueDepth('work');
    await sleep(5 * TIME_SCALE + 20);
    const due = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));

    // Assess
    expect(early.Messages).toBeUndefined();
    expect(depthEarly).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    expect(due.Messages?.map((m) => m.Body)).toEqual(['later']);
  });

  it('redelivers a message whose visibility timeout ran out, counting receives; an old receipt handle deletes nothing', async () => {
    // Prepare
    const queueUrl = endpoint.createQueue('work', { visibilityTimeoutSeconds: 3 });
    const sqs = sqsClient();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'job' }));
    const receive = () =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));

    // Act
    const first = await receive();
    const hidden = await receive();
    await sleep(3 * TIME_SCALE + 20);
    const second = await receive();
    await sqs.send(
      new DeleteMessageCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: first.Messages?.[0]?.ReceiptHandle,
      }),
    );
    const afterStaleDelete = endpoint.queueDepth('work');
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: second.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const third = await receive();

    // Assess
    expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(hidden.Messages).toBeUndefined();
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(afterStaleDelete).toEqual({ visible: 0, delayed: 0, inFlight: 1 });
    expect(third.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('3');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    // Prepare
    const queueUrl = endpoint.createQueue('work', {
      deadLetter: { queueName: 'work-dlq', maxReceiveCount: 2 },
    });
    const sqs = sqsClient();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'poison',
        MessageAttributes: { reason: { DataType: 'String', StringValue: 'bad' } },
      }),
    );
    const receive = () =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0 }));

    // Act
    const receives = [await receive(), await receive(), await receive()];

    // Assess
    expect(receives.map((r) => r.Messages?.length ?? 0)).toEqual([1, 1, 0]);
    expect(endpoint.queueDepth('work')).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
    expect(endpoint.drain('work-dlq')).toEqual([
      expect.objectContaining({
        body: 'poison',
        receiveCount: 2,
        messageAttributes: { reason: { DataType: 'String', StringValue: 'bad' } },
      }),
    ]);
  });

  it('answers an unknown queue with QueueDoesNotExist', async () => {
    // Act
    const error = await rejection(
      sqsClient().send(new GetQueueUrlCommand({ QueueName: 'missing' })),
    );

    // Assess
    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect(error.name).toBe('QueueDoesNotExist');
  });
});

describe('STS', () => {
  it('issues credentials of the role by AssumeRole, and records which role signed a later call with them', async () => {
    // Prepare
    const arn = failedExecution('run-1');

    // Act
    const { Credentials: credentials, AssumedRoleUser: user } = await stsClient().send(
      new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'autoheal-redrive' }),
    );
    const asRole = sfnClient({
      credentials: {
        accessKeyId: credentials?.AccessKeyId ?? '',
        secretAccessKey: credentials?.SecretAccessKey ?? '',
        sessionToken: credentials?.SessionToken,
      },
    });
    await asRole.send(new DescribeExecutionCommand({ executionArn: arn }));
    await sfnClient().send(new DescribeExecutionCommand({ executionArn: arn }));

    // Assess
    expect(credentials?.AccessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now() + 59 * MINUTE_MS);
    expect(user?.Arn).toBe(
      'arn:aws:sts::000000000000:assumed-role/Autoheal-RedriveHandlerScopeRole1/autoheal-redrive',
    );
    const [assume, describedAsRole, describedAsCaller] = endpoint.calls;
    expect(assume).toMatchObject({
      service: 'sts',
      operation: 'AssumeRole',
      target: ROLE_ARN,
      signedWith: { accessKeyId: 'test' },
    });
    expect(describedAsRole.signedWith).toEqual({
      accessKeyId: credentials?.AccessKeyId,
      sessionToken: credentials?.SessionToken,
    });
    expect(endpoint.assumedRoleOf(describedAsRole.signedWith?.accessKeyId ?? '')).toBe(ROLE_ARN);
    expect(endpoint.assumedRoleOf(describedAsCaller.signedWith?.accessKeyId ?? '')).toBeUndefined();
  });

  it('answers AssumeRole of a malformed role ARN with the XML error the SDK names', async () => {
    // Act
    const error = await rejection(
      stsClient().send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:s3:::bucket', RoleSessionName: 'autoheal' }),
      ),
    );

    // Assess
    expect(error.name).toBe('ValidationError');
    expect(endpoint.issuedCredentials()).toEqual([]);
  });
});

describe('env()', () => {
  afterEach(() => {
    for (const name of Object.keys(endpoint.env())) delete process.env[name];
  });

  it('points clients configured only by the environment at the endpoint', async () => {
    // Prepare
    const arn = failedExecution('run-1');
    endpoint.addFlow({ flowName: 'export', triggerType: 'OnDemand' });
    endpoint.createQueue('work');
    Object.assign(process.env, endpoint.env());
    const sfn = track(new SFNClient({}));
    const appflow = track(new AppflowClient({}));
    const sqs = track(new SQSClient({}));

    // Act
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    const flow = await appflow.send(new DescribeFlowCommand({ flowName: 'export' }));
    const queue = await sqs.send(new GetQueueUrlCommand({ QueueName: 'work' }));

    // Assess
    expect(described.status).toBe('FAILED');
    expect(flow.flowStatus).toBe('Active');
    expect(queue.QueueUrl).toBe(`${endpoint.url}/000000000000/work`);
  });
});
