/**
 * `autoheal dlq list` and `autoheal dlq replay`, through the real SDK to the
 * local AWS endpoint's SQS, on messages the real redrive handler parked:
 * malformed events (invalid-event) and stale failures whose DescribeExecution
 * kept failing (retries-exhausted). A replayed failure is then processed by
 * the same handler, which confirms its facts and redrives it once.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createCliClients } from '../../cli/clients';
import type { Deployment } from '../../cli/deployment';
import { MESSAGE_ATTRIBUTES } from '../../lambda/shared/contract';
import { generateMalformedEvents } from '../support/bad-input';
import { runAutoheal } from '../support/cli-io';
import { liveSinceFor } from '../support/live-since';
import {
  type RedriveRig,
  RIG_ACCOUNT,
  RIG_CONFIG,
  RIG_REGION,
  startRedriveRig,
} from '../support/resilience/redrive-rig';

const WORK_QUEUE = 'autoheal-redrive-work';
const DEAD_LETTER_QUEUE = 'autoheal-redrive-dlq';
const STARTER_DEAD_LETTER_QUEUE = 'autoheal-flow-starter-dlq';
const HEALER_DEAD_LETTER_QUEUE = 'autoheal-flow-healer-dlq';
const HEALER_WORK_QUEUE = 'autoheal-flow-healer-work';
const SECRET = 'SECRET-EXECUTION-DATA';
/** Real ms per simulated SQS second: the handler's retries and the CLI's polls run fast. */
const TIME_SCALE = 20;

let rig: RedriveRig;
let deployment: Deployment;
/** The stale failures the handler parked because DescribeExecution failed. */
let staleArns: string[];
/** The fields the malformed events were parked for, by message. */
let invalidFields: string[];

/** The event with the execution's data in it, as Step Functions would send it (that data must never be printed). */
function withExecutionData(body: string): string {
  const event = JSON.parse(body);
  event.detail = {
    ...event.detail,
    input: `{"card":"${SECRET}"}`,
    output: SECRET,
    cause: SECRET,
  };
  return JSON.stringify(event);
}

/** Runs `autoheal ...argv` against the rig's deployment. */
async function autoheal(...argv: string[]) {
  const clients = createCliClients({ endpointUrl: rig.endpoint.url, region: RIG_REGION });
  try {
    return await runAutoheal(argv, { clients, deployment: async () => deployment });
  } finally {
    clients.sqs.destroy();
  }
}

/** The reason the handler parked the stale failures with (their DescribeExecution never answered in time). */
const RETRIES_EXHAUSTED = /^retries-exhausted: \w+$/;

/** The stale failures still parked. */
function parkedStaleArns(): string[] {
  return rig
    .parked()
    .filter((m) =>
      m.messageAttributes[MESSAGE_ATTRIBUTES.parkedReason]?.StringValue?.startsWith(
        'retries-exhausted',
      ),
    )
    .map((m) => executionArnOf(m.body) as string);
}

/** The execution a message body is about; undefined for a body that is not an event. */
function executionArnOf(body: string): string | undefined {
  try {
    return JSON.parse(body)?.detail?.executionArn;
  } catch {
    return undefined;
  }
}

const parkedIds = () => rig.endpoint.peek(DEAD_LETTER_QUEUE).map((m) => m.messageId);

beforeEach(async () => {
  // Prepare: the real handler parks 3 malformed events, and 2 stale failures whose DescribeExecution is throttled
  rig = await startRedriveRig({
    environments: 1,
    timeScale: TIME_SCALE,
    // A throttled call is retried until the invocation's deadline: a short function timeout parks it soon.
    timeoutMs: 2_000,
    visibilityTimeoutSeconds: 150,
    maxReceiveCount: 2,
    faults: { quotas: { DescribeExecution: { burst: 0, perSecond: 0 } } },
  });
  deployment = {
    stackName: 'Autoheal',
    region: RIG_REGION,
    idempotencyKeyPrefix: 'autoheal',
    idempotencyTableName: rig.tableName,
    redrive: {
      workQueueUrl: rig.workQueueUrl,
      deadLetterQueueUrl: rig.deadLetterQueueUrl,
      statesArnPrefix: `arn:aws:states:${RIG_REGION}:${RIG_ACCOUNT}:`,
      config: RIG_CONFIG,
      liveSince: liveSinceFor(RIG_CONFIG),
    },
  };
  const malformed = generateMalformedEvents(40);
  const wrongSource = malformed.filter((e) => e.family === 'wrong-source').slice(0, 2);
  const nonJson = malformed.filter((e) => e.family === 'non-json').slice(0, 1);
  invalidFields = [...wrongSource, ...nonJson].map((e) => e.expectedField);
  staleArns = rig.seedFailures(2, { stoppedAgoMs: 60 * 60_000 });
  await rig.enqueue([
    ...wrongSource.map((e) => withExecutionData(e.body)),
    ...nonJson.map((e) => e.body),
    ...staleArns.map((arn) => withExecutionData(rig.failureEventBody(arn))),
  ]);
  await rig.drain(60_000);
  rig.endpoint.setFaults({});
  expect(rig.parked()).toHaveLength(5);
}, 90_000);

afterEach(async () => {
  await rig.stop();
});

describe('autoheal dlq list', () => {
  it('groups the parked messages by reason and origin, and leaves every one in the queue, visible', async () => {
    // Act
    const run = await autoheal('dlq', 'list');

    // Assess
    expect(run.exitCode).toBe(0);
    const rows = run.stdout.split('\n').filter((line) => line.includes('│ redrive'));
    const cells = (line: string | undefined) =>
      line
        ?.split('│')
        .map((cell) => cell.trim())
        .filter(Boolean);
    const row = (reason: string) => cells(rows.find((line) => line.includes(` ${reason} `)));
    // The handler names the describe's last error: throttled, or cut at the invocation's deadline.
    const exhausted = rows.filter((line) => line.includes('retries-exhausted')).map(cells);
    for (const cellsOfRow of exhausted) {
      expect(cellsOfRow).toEqual([
        'redrive',
        expect.stringMatching(RETRIES_EXHAUSTED),
        'eventbridge',
        expect.stringMatching(/^[12]$/),
        expect.stringMatching(/^\d+s ago$/),
        expect.stringMatching(/^\d+s ago$/),
      ]);
    }
    expect(exhausted.reduce((sum, c) => sum + Number(c?.[3]), 0)).toBe(2);
    for (const field of new Set(invalidFields)) {
      expect(row(`invalid-event: ${field}`)?.[3]).toBe(
        String(invalidFields.filter((f) => f === field).length),
      );
    }
    expect(rig.endpoint.queueDepth(DEAD_LETTER_QUEUE)).toEqual({
      visible: 5,
      delayed: 0,
      inFlight: 0,
    });
  });

  it("prints every message's metadata with --json, and never the execution's input, output or cause", async () => {
    // Act
    const run = await autoheal('dlq', 'list', '--json');

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).not.toContain(SECRET);
    const listed = JSON.parse(run.stdout);
    expect(listed.queues).toEqual([{ queue: 'redrive', messages: 5, complete: true }]);
    expect(
      listed.messages
        .filter((m: { reason: string }) => m.reason.startsWith('retries-exhausted'))
        .map((m: { executionArn: string }) => m.executionArn)
        .sort(),
    ).toEqual([...staleArns].sort());
    expect(listed.messages[0]).toEqual(
      expect.objectContaining({
        queue: 'redrive',
        messageId: expect.any(String),
        originMessageId: expect.any(String),
        origin: expect.any(String),
        parkedAt: expect.any(String),
        ageSeconds: expect.any(Number),
      }),
    );
  });
});

describe('autoheal dlq replay', () => {
  it('moves only the messages of the chosen reason; the handler confirms each with DescribeExecution and redrives it once', async () => {
    // Prepare
    const invalidIds = rig
      .parked()
      .filter((m) => m.messageAttributes[MESSAGE_ATTRIBUTES.invalidField] !== undefined)
      .map((m) => m.messageId);
    const describedBefore = rig.endpoint.countCalls({
      operation: 'DescribeExecution',
      outcome: 'ok',
    });

    // Act
    const run = await autoheal(
      'dlq',
      'replay',
      '--queue',
      'redrive',
      '--reason',
      'retries-exhausted',
      '--yes',
    );
    const replayed = rig.endpoint.peek(WORK_QUEUE);
    await rig.drain(60_000);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Moved 2 to the redrive work queue as replays');
    expect(parkedIds().sort()).toEqual([...invalidIds].sort());
    expect(replayed.map((m) => m.messageAttributes[MESSAGE_ATTRIBUTES.replayed])).toEqual([
      { DataType: 'String', StringValue: expect.stringMatching(RETRIES_EXHAUSTED) },
      { DataType: 'String', StringValue: expect.stringMatching(RETRIES_EXHAUSTED) },
    ]);
    expect(
      rig.endpoint.countCalls({ operation: 'DescribeExecution', outcome: 'ok' }) - describedBefore,
    ).toBe(2);
    for (const arn of staleArns) expect(rig.endpoint.execution(arn)?.redrives).toHaveLength(1);
  });

  it('has the handler confirm a replayed failure whose facts look fresh, because the replay is marked (--execution)', async () => {
    // Prepare: a failure 5 minutes old, parked because RedriveExecution kept failing
    rig.endpoint.setFaults({ quotas: { RedriveExecution: { burst: 0, perSecond: 0 } } });
    const [freshArn] = rig.seedFailures(1, { stoppedAgoMs: 5 * 60_000 });
    await rig.enqueue([rig.failureEventBody(freshArn as string)]);
    await rig.drain(60_000);
    rig.endpoint.setFaults({});
    expect(rig.parked()).toHaveLength(6);
    const sfnCallsBefore = rig.endpoint.countCalls({ service: 'sfn' });

    // Act
    const run = await autoheal(
      'dlq',
      'replay',
      '--queue',
      'redrive',
      '--execution',
      freshArn as string,
      '--yes',
    );
    await rig.drain(60_000);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Moved 1 to the redrive work queue as replays');
    // Confirmed before the redrive (on each receive: the aborted attempt's in-progress record may delay it once).
    const sfnCalls = rig.endpoint.calls
      .filter((c) => c.service === 'sfn')
      .slice(sfnCallsBefore)
      .map((c) => `${c.operation} ${c.outcome}`);
    expect(sfnCalls[0]).toBe('DescribeExecution ok');
    expect(sfnCalls.filter((c) => c === 'RedriveExecution ok')).toHaveLength(1);
    expect(rig.endpoint.execution(freshArn as string)?.redrives).toHaveLength(1);
    expect(rig.parked()).toHaveLength(5);
  }, 60_000);

  it('moves nothing with --dry-run, and says what would move', async () => {
    // Prepare
    const before = parkedIds();
    const sendsBefore = rig.endpoint.countCalls({
      operation: 'SendMessageBatch',
      target: WORK_QUEUE,
    });

    // Act
    const run = await autoheal(
      'dlq',
      'replay',
      '--queue',
      'redrive',
      '--reason',
      'retries-exhausted',
      '--dry-run',
    );

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      'Would move 2 of 5 messages in the redrive dead-letter queue to its work queue',
    );
    expect(run.stdout).toContain('Dry run: nothing moved.');
    expect(parkedIds()).toEqual(before);
    expect(rig.endpoint.peek(WORK_QUEUE)).toEqual([]);
    expect(rig.endpoint.countCalls({ operation: 'SendMessageBatch', target: WORK_QUEUE })).toBe(
      sendsBefore,
    );
  });

  it('moves nothing without --yes when it cannot ask (no terminal), and says to add --yes', async () => {
    // Act
    const run = await autoheal('dlq', 'replay', '--queue', 'redrive');

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('Not confirmed: nothing moved (in a script, add --yes)');
    expect(parkedIds()).toHaveLength(5);
    expect(rig.endpoint.peek(WORK_QUEUE)).toEqual([]);
  });

  it.each([
    {
      fault: 'SQS fails one entry of the batch',
      inject: () =>
        rig.endpoint.failSendEntries(WORK_QUEUE, (body) => body.includes(staleArns[0] as string)),
      stays: () => [staleArns[0]],
    },
    {
      fault: 'every SendMessageBatch call is throttled',
      inject: () =>
        rig.endpoint.setFaults({ quotas: { SendMessageBatch: { burst: 0, perSecond: 0 } } }),
      stays: () => staleArns,
    },
  ])(
    'keeps a message in the dead-letter queue when its send failed ($fault), and exits non-zero',
    async ({ inject, stays }) => {
      // Prepare
      inject();

      // Act
      const run = await autoheal(
        'dlq',
        'replay',
        '--queue',
        'redrive',
        '--reason',
        'retries-exhausted',
        '--yes',
      );

      // Assess
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/failed: .+: (InternalError|ThrottlingException)/);
      expect(parkedStaleArns().sort()).toEqual([...stays()].sort());
      const moved = rig.endpoint
        .peek(WORK_QUEUE)
        .map((m) => JSON.parse(m.body).detail.executionArn);
      expect(moved).toEqual(staleArns.filter((arn) => !stays().includes(arn)));
      expect(rig.endpoint.queueDepth(DEAD_LETTER_QUEUE).visible).toBe(5 - moved.length);
    },
  );

  it("moves the flow healer's parked messages to the flow healer's work queue", async () => {
    // Prepare: a run-failure event the flow healer could not process
    const healerDlqUrl = rig.endpoint.createQueue(HEALER_DEAD_LETTER_QUEUE);
    const healerWorkQueueUrl = rig.endpoint.createQueue(HEALER_WORK_QUEUE);
    deployment = {
      ...deployment,
      appflow: { healerDeadLetterQueueUrl: healerDlqUrl, healerWorkQueueUrl, config: {} as never },
    };
    const sqs = new SQSClient({ endpoint: rig.endpoint.url });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: healerDlqUrl,
        MessageBody: JSON.stringify({
          source: 'aws.appflow',
          'detail-type': 'AppFlow End Flow Run Report',
          time: '2026-03-02T02:05:00Z',
          detail: {
            'flow-name': 'crm-export',
            'execution-id': 'run-1',
            status: 'Execution Failed',
          },
        }),
        MessageAttributes: {
          [MESSAGE_ATTRIBUTES.parkedReason]: {
            DataType: 'String',
            StringValue: 'retries-exhausted after 5 receives: InternalServerException: boom',
          },
        },
      }),
    );
    sqs.destroy();

    // Act
    const run = await autoheal('dlq', 'replay', '--queue', 'flow-healer', '--yes');

    // Assess
    expect(run.exitCode).toBe(0);
    expect(rig.endpoint.peek(HEALER_DEAD_LETTER_QUEUE)).toEqual([]);
    expect(rig.endpoint.peek(HEALER_WORK_QUEUE).map((m) => m.messageAttributes)).toEqual([
      expect.objectContaining({
        [MESSAGE_ATTRIBUTES.replayed]: {
          DataType: 'String',
          StringValue: 'retries-exhausted: InternalServerException',
        },
      }),
    ]);
    expect(rig.parked()).toHaveLength(5);
  });

  it('moves no flow-starter tick, and names the flows start command of each flow and tick', async () => {
    // Prepare: a tick the starter failed on after Lambda's retries (its on-failure record)
    const starterDlqUrl = rig.endpoint.createQueue(STARTER_DEAD_LETTER_QUEUE);
    deployment = {
      ...deployment,
      appflow: {
        starterDeadLetterQueueUrl: starterDlqUrl,
        config: {} as never,
      },
    };
    const record = {
      version: '1.0',
      timestamp: '2026-03-02T02:10:00.000Z',
      requestContext: {
        requestId: 'c2f6a3a0',
        functionArn: `arn:aws:lambda:${RIG_REGION}:${RIG_ACCOUNT}:function:autoheal-starter:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: {
        schedule: 'nightly',
        scheduledTime: '2026-03-02T02:00:00Z',
        flows: ['crm-export', 'erp-import'],
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'RetryableError', errorMessage: SECRET },
    };
    const sqs = new SQSClient({ endpoint: rig.endpoint.url });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: starterDlqUrl, MessageBody: JSON.stringify(record) }),
    );
    sqs.destroy();

    // Act
    const run = await autoheal('dlq', 'replay', '--queue', 'flow-starter', '--yes');

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Ticks are not moved');
    expect(run.stdout).toContain(
      'autoheal flows start crm-export --tick 2026-03-02T02:00:00Z --schedule nightly',
    );
    expect(run.stdout).toContain(
      'autoheal flows start erp-import --tick 2026-03-02T02:00:00Z --schedule nightly',
    );
    expect(run.stdout).not.toContain(SECRET);
    expect(rig.endpoint.queueDepth(STARTER_DEAD_LETTER_QUEUE).visible).toBe(1);
  });
});
