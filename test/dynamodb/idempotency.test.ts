/**
 * Idempotency proofs against DynamoDB Local: one failure, one redrive, however
 * often and however concurrently its event arrives, and a failed attempt never
 * blocks the retry. Step Functions, SNS and SQS are mocked.
 */
import { randomUUID } from 'node:crypto';
import { RedriveExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SQSRecord } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { IDEMPOTENCY_RECORD_TTL_SECONDS } from '../../lambda/shared/contract';
import { snsMock, sqsMock } from '../support/aws-mocks';
import { expectedToken } from '../support/client-token';
import {
  createIdempotencyTable,
  type IdempotencyTable,
  lambdaContext,
  receivedAgain,
  sqsEvent,
  sqsRecord,
} from '../support/idempotency-table';
import { ACCOUNT, MINUTE_MS, REGION } from '../support/lambda-env';
import { NOW, redriveHandler, resetRedriveMocks, sfnMock } from '../support/redrive-harness';
import { overlap, sleep } from '../support/timing';

const MACHINE = 'orders-fulfilment';

const config = parseRedriveConfig({
  stateMachineNamePrefixes: ['orders-'],
  delay: { jitterRatio: 0 },
});

/** A FAILED execution's status-change event, due for a redrive (stopped 10 minutes ago). */
function failure(redriveCount = 0, name = `order-${randomUUID()}`) {
  const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${MACHINE}:${name}`;
  const body = JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: new Date(NOW - 10 * MINUTE_MS).toISOString(),
    region: REGION,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${MACHINE}`,
      name,
      status: 'FAILED',
      startDate: NOW - 12 * MINUTE_MS,
      stopDate: NOW - 10 * MINUTE_MS,
      input: '{}',
      output: null,
      redriveCount,
      redriveDate: redriveCount > 0 ? NOW - 11 * MINUTE_MS : null,
      redriveStatus: 'REDRIVABLE',
      redriveStatusReason: null,
      error: 'Lambda.TooManyRequestsException',
      cause: 'Rate exceeded',
    },
  });
  return { executionArn, name, body };
}

/** A transient failure that is not throttling (throttling is waited out inside the invocation). */
const serviceUnavailable = () =>
  new SFNServiceException({
    name: 'ServiceUnavailable',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Service unavailable',
  });

let table: IdempotencyTable;

beforeEach(async () => {
  resetRedriveMocks();
  table = await createIdempotencyTable();
});

afterEach(async () => {
  jest.restoreAllMocks();
  await table.dispose();
});

/**
 * One Lambda execution environment: its own clients, Logger, Metrics and
 * persistence layer, sharing only the idempotency table with the others.
 */
function lambdaEnvironment(redriveConfig = config, idempotencyKeyPrefix?: string) {
  const { handler, counted } = redriveHandler(
    table,
    redriveConfig,
    undefined,
    undefined,
    undefined,
    idempotencyKeyPrefix,
  );
  return {
    invoke: (record: SQSRecord, remainingMs?: number) =>
      handler(sqsEvent(record), lambdaContext(remainingMs)),
    /** The names of the metrics counted so far, in order. */
    get counted() {
      return counted.map(({ name }) => name);
    },
  };
}

describe('idempotency of the redrive handler (DynamoDB Local)', () => {
  it('redrives a failure it only observed once observe-only is switched off', async () => {
    // Prepare: the same failure, first seen while observing, then after the switch
    const change = failure();
    const observing = lambdaEnvironment(
      parseRedriveConfig({
        stateMachineNamePrefixes: ['orders-'],
        delay: { jitterRatio: 0 },
        observeOnly: true,
      }),
    );
    const active = lambdaEnvironment();

    // Act
    await observing.invoke(sqsRecord(change.body));
    await active.invoke(sqsRecord(change.body));

    // Assess
    expect(observing.counted).toEqual(['ObservedRedrive']);
    expect(active.counted).toEqual(['Redriven']);
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: change.executionArn,
      clientToken: expectedToken(change.executionArn, 0),
    });
  });

  it('redrives once when the same event is delivered twice, and stores a COMPLETED record for 15 days', async () => {
    // Prepare: the duplicate is a distinct SQS message, handled by another environment
    const change = failure();
    const first = lambdaEnvironment();
    const second = lambdaEnvironment();
    const before = Math.floor(Date.now() / 1000);

    // Act
    const results = [
      await first.invoke(sqsRecord(change.body)),
      await second.invoke(sqsRecord(change.body)),
    ];
    const after = Math.ceil(Date.now() / 1000);

    // Assess
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(sfnMock).toHaveReceivedCommandWith(RedriveExecutionCommand, {
      executionArn: change.executionArn,
      clientToken: expectedToken(change.executionArn, 0),
    });
    expect(first.counted).toEqual(['Redriven']);
    expect(second.counted).toEqual(['DuplicateDelivery']);
    const items = await table.items();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id: expect.stringMatching(/^autoheal-redrive#/),
      status: 'COMPLETED',
      data: { outcome: 'redriven', redriveDate: new Date(NOW).toISOString() },
    });
    expect(items[0].expiration).toBeGreaterThanOrEqual(before + IDEMPOTENCY_RECORD_TTL_SECONDS);
    expect(items[0].expiration).toBeLessThanOrEqual(after + IDEMPOTENCY_RECORD_TTL_SECONDS);
    expect(IDEMPOTENCY_RECORD_TTL_SECONDS).toBe(15 * 24 * 60 * 60);
  });

  it('keeps the records of two installations on one table apart, each under its own key prefix', async () => {
    // Prepare: the same failure reaches two installations (say, both scope its machine)
    const change = failure();
    const installations = ['autoheal-1a2b3c4d', 'autoheal-5e6f7a8b'].map((prefix) =>
      lambdaEnvironment(config, prefix),
    );

    // Act
    for (const installation of installations) await installation.invoke(sqsRecord(change.body));

    // Assess: neither took the other's record for a duplicate
    expect(installations.map((i) => i.counted)).toEqual([['Redriven'], ['Redriven']]);
    const ids = (await table.items()).map((item) => String(item.id)).sort();
    expect(ids).toEqual([
      expect.stringMatching(/^autoheal-1a2b3c4d-redrive#/),
      expect.stringMatching(/^autoheal-5e6f7a8b-redrive#/),
    ]);
  });

  it('redrives once when two invocations handle the same event concurrently; the loser retries later', async () => {
    // Prepare: a slow RedriveExecution, held until the other invocation has finished (at most
    // 2 s), so the two invocations truly overlap however slow the machine is
    const change = failure();
    const { hold, oneFinished } = overlap();
    sfnMock.on(RedriveExecutionCommand).callsFake(async () => {
      await hold();
      return { redriveDate: new Date(NOW) };
    });
    const envA = lambdaEnvironment();
    const envB = lambdaEnvironment();
    const recordA = sqsRecord(change.body);
    const recordB = sqsRecord(change.body);

    // Act
    const [resultA, resultB] = await Promise.all([
      envA.invoke(recordA).finally(oneFinished),
      envB.invoke(recordB).finally(oneFinished),
    ]);

    // Assess: one redrove, the other found the record in progress and asked for a retry
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    const failed = [...resultA.batchItemFailures, ...resultB.batchItemFailures];
    expect(failed).toHaveLength(1);
    const loser = failed[0].itemIdentifier === recordA.messageId ? envA : envB;
    const loserRecord = loser === envA ? recordA : recordB;
    expect(failed).toEqual([{ itemIdentifier: loserRecord.messageId }]);
    expect([...envA.counted, ...envB.counted].sort()).toEqual(['Redriven', 'RetryableError']);

    // Act: SQS redelivers the loser's message after its visibility timeout
    const retry = await loser.invoke(receivedAgain(loserRecord));

    // Assess: the stored result is returned, no second redrive
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 1);
    expect(loser.counted.at(-1)).toBe('DuplicateDelivery');
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('redrives again for the next failure of the same execution (a higher redriveCount)', async () => {
    // Prepare
    const firstFailure = failure(0);
    const nextFailure = failure(1, firstFailure.name);
    const env = lambdaEnvironment();

    // Act
    await env.invoke(sqsRecord(firstFailure.body));
    await env.invoke(sqsRecord(nextFailure.body));
    await env.invoke(sqsRecord(nextFailure.body));

    // Assess
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 2);
    expect(sfnMock).toHaveReceivedNthCommandWith(1, RedriveExecutionCommand, {
      executionArn: firstFailure.executionArn,
      clientToken: expectedToken(firstFailure.executionArn, 0),
    });
    expect(sfnMock).toHaveReceivedNthCommandWith(2, RedriveExecutionCommand, {
      executionArn: firstFailure.executionArn,
      clientToken: expectedToken(firstFailure.executionArn, 1),
    });
    expect(env.counted).toEqual(['Redriven', 'Redriven', 'DuplicateDelivery']);
    const items = await table.items();
    expect(items.map((item) => item.status)).toEqual(['COMPLETED', 'COMPLETED']);
  });

  it('releases the record when RedriveExecution throws, so the retry redrives exactly once', async () => {
    // Prepare
    const change = failure();
    sfnMock
      .on(RedriveExecutionCommand)
      .rejectsOnce(serviceUnavailable())
      .resolves({ redriveDate: new Date(NOW) });
    const env = lambdaEnvironment();
    const record = sqsRecord(change.body);

    // Act
    const attempt = await env.invoke(record);

    // Assess: failed, retried through the buffer, and nothing holds the failure's key
    expect(attempt).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(await table.items()).toEqual([]);

    // Act
    const retry = await env.invoke(receivedAgain(record));
    const later = await env.invoke(receivedAgain(receivedAgain(record)));

    // Assess: the retry redrove (same token), the later redelivery did not
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(later).toEqual({ batchItemFailures: [] });
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 2);
    for (const call of sfnMock.commandCalls(RedriveExecutionCommand)) {
      expect(call.args[0].input.clientToken).toBe(expectedToken(change.executionArn, 0));
    }
    expect(env.counted).toEqual(['RetryableError', 'Redriven', 'DuplicateDelivery']);
    const items = await table.items();
    expect(items).toHaveLength(1);
    expect(items[0].status).toBe('COMPLETED');
  });

  it('releases the record when the give-up notice fails to publish, so the notice is not lost', async () => {
    // Prepare
    const change = failure(config.maxRedrives);
    snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .resolves({ MessageId: randomUUID() });
    const env = lambdaEnvironment();
    const record = sqsRecord(change.body);

    // Act
    const attempt = await env.invoke(record);
    const retry = await env.invoke(receivedAgain(record));
    const later = await env.invoke(receivedAgain(receivedAgain(record)));

    // Assess
    expect(attempt).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(later).toEqual({ batchItemFailures: [] });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect(env.counted).toEqual(['RetryableError', 'GaveUp', 'DuplicateDelivery']);
  });

  it('does not let an invocation that timed out mid-redrive block the retry', async () => {
    // Prepare: the first invocation hangs in RedriveExecution with 50 ms left, like a Lambda about to time out
    const change = failure();
    let releaseHungCall: () => void = () => undefined;
    sfnMock
      .on(RedriveExecutionCommand)
      .callsFakeOnce(
        () =>
          new Promise((resolve) => {
            releaseHungCall = () => resolve({ redriveDate: new Date(NOW) });
          }),
      )
      .resolves({ redriveDate: new Date(NOW) });
    const timedOut = lambdaEnvironment();
    const fresh = lambdaEnvironment();
    const record = sqsRecord(change.body);
    const hung = timedOut.invoke(record, 50);
    while (sfnMock.commandCalls(RedriveExecutionCommand).length === 0) await sleep(5);
    await sleep(60);

    // Act: SQS redelivers after the visibility timeout, to a new environment
    const retry = await fresh.invoke(receivedAgain(record));

    // Assess: the retry was not blocked by the stale INPROGRESS record, and reused the token
    expect(retry).toEqual({ batchItemFailures: [] });
    expect(fresh.counted).toEqual(['Redriven']);
    expect(sfnMock).toHaveReceivedCommandTimes(RedriveExecutionCommand, 2);
    const tokens = sfnMock
      .commandCalls(RedriveExecutionCommand)
      .map((call) => call.args[0].input.clientToken);
    expect(tokens).toEqual([
      expectedToken(change.executionArn, 0),
      expectedToken(change.executionArn, 0),
    ]);
    releaseHungCall();
    await hung;
  });
});
