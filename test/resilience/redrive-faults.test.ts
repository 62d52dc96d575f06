/**
 * The redrive path when everything around it fails: Step Functions answers
 * 20% of calls with a 5xx and leaves some connections hanging, and DynamoDB
 * (the idempotency store) is stopped and restarted mid-run. Every failure must
 * end either redriven or parked in the dead-letter queue with its reason, and
 * none may be redriven twice.
 *
 * Time is scaled down so the suite stays short: SQS seconds run at 100 ms, the
 * function timeout is 3 s and the SDK's request timeout 300 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DynamoDbLocalHandle,
  startDynamoDbLocal,
  stopDynamoDbLocal,
} from '../support/dynamodb-local-setup';
import { type RedriveRig, startRedriveRig } from '../support/resilience/redrive-rig';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('redrive under faults', () => {
  let rig: RedriveRig | undefined;
  let dynamodb: DynamoDbLocalHandle | undefined;
  let dbPath: string | undefined;

  afterEach(async () => {
    await rig?.stop();
    if (dynamodb) await stopDynamoDbLocal(dynamodb.process);
    if (dbPath) rmSync(dbPath, { recursive: true, force: true });
  });

  it('ends every failure redriven or parked with its reason, none twice, through 5xx, hangs and a DynamoDB restart', async () => {
    // Prepare: a DynamoDB Local of its own, on disk, so it can be restarted with its data.
    dbPath = mkdtempSync(join(tmpdir(), 'autoheal-ddb-'));
    dynamodb = await startDynamoDbLocal({ dbPath });
    const port = Number(new URL(dynamodb.endpoint).port);
    rig = await startRedriveRig({
      environments: 4,
      faults: { serverErrorRate: 0.2, hangRate: 0.02, services: ['sfn'] },
      timeScale: 100,
      visibilityTimeoutSeconds: 40,
      timeoutMs: 3_000,
      dynamoDbEndpoint: dynamodb.endpoint,
      clientConfig: {
        maxAttempts: 3,
        requestHandler: {
          connectionTimeout: 200,
          requestTimeout: 300,
          throwOnRequestTimeout: true,
        },
      },
    });
    const failures = rig.seedFailures(120);
    await rig.enqueue(failures.map((arn) => rig?.failureEventBody(arn) ?? ''));

    // Act: drain while DynamoDB goes away for two seconds once a few redrives are done.
    const drained = rig.drain(100_000);
    while ((rig.tally(failures).redriven ?? 0) < 20) await sleep(10);
    await stopDynamoDbLocal(dynamodb.process);
    await sleep(2_000);
    dynamodb = await startDynamoDbLocal({ dbPath, port });
    const run = await drained;

    // Assess
    const tally = rig.tally(failures);
    expect(run.abandoned).toBe(false);
    expect(rig.endpoint.countCalls({ outcome: 'server-error' })).toBeGreaterThan(0);
    expect(rig.endpoint.countCalls({ outcome: 'hung' })).toBeGreaterThan(0);
    expect(tally.duplicates).toBe(0);
    expect(tally.lost).toBe(0);
    expect(tally.redriven + tally.parkedWithReason).toBe(120);
    expect(tally.redriven).toBeGreaterThan(0);
  });
});
