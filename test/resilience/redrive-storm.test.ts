/**
 * The redrive path under storms, through the real AWS SDK to the local AWS
 * endpoint and DynamoDB Local, with several execution environments draining
 * the work queue at once: what a user would check after an outage — every
 * failure redriven, none twice, none lost. Sizes are small here; `npm run
 * bench` runs the full-size versions and measures the time.
 */
import { type RedriveRig, startRedriveRig } from '../support/resilience/redrive-rig';

/** A deterministic shuffle, so a failing order can be replayed. */
function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

jest.setTimeout(60_000);

describe('redrive storms', () => {
  let rig: RedriveRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });

  it('redrives each failure exactly once when 30% of the events arrive twice, from 4 environments at once', async () => {
    // Prepare
    // A duplicate that meets its twin in progress comes back after the visibility timeout:
    // SQS seconds run at 10 ms here so that wait does not dominate the test.
    rig = await startRedriveRig({ environments: 4, timeScale: 10 });
    const failures = rig.seedFailures(200);
    const bodies = failures.map((arn) => rig?.failureEventBody(arn) ?? '');
    const duplicates = bodies.filter((_, i) => i % 10 < 3);
    await rig.enqueue(shuffled([...bodies, ...duplicates]));

    // Act
    const run = await rig.drain(60_000);

    // Assess
    const tally = rig.tally(failures);
    expect(run.abandoned).toBe(false);
    expect(duplicates).toHaveLength(60);
    expect(tally).toMatchObject({ failures: 200, redriven: 200, duplicates: 0, lost: 0 });
    expect(
      rig.endpoint.countCalls({ operation: 'RedriveExecution', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(200);
  });

  it('redrives every failure once, losing none, while RedriveExecution is throttled', async () => {
    // Prepare: a quota well below the storm, so most calls are throttled at first.
    rig = await startRedriveRig({
      faults: { quotas: { RedriveExecution: { burst: 50, perSecond: 100 } } },
    });
    const failures = rig.seedFailures(300);
    await rig.enqueue(failures.map((arn) => rig?.failureEventBody(arn) ?? ''));

    // Act
    const run = await rig.drain(60_000);

    // Assess
    const tally = rig.tally(failures);
    expect(run.abandoned).toBe(false);
    expect(
      rig.endpoint.countCalls({ operation: 'RedriveExecution', outcome: 'throttled' }),
    ).toBeGreaterThan(0);
    expect(tally).toMatchObject({
      failures: 300,
      redriven: 300,
      duplicates: 0,
      lost: 0,
      parkedWithReason: 0,
    });
  });

  it('costs 3 AWS calls per redrive when the event carries the redrive fields', async () => {
    // Prepare
    rig = await startRedriveRig({ environments: 2 });
    const failures = rig.seedFailures(50);
    await rig.enqueue(failures.map((arn) => rig?.failureEventBody(arn) ?? ''));

    // Act
    await rig.drain(60_000);

    // Assess: a put and an update of the idempotency record, and the redrive; no DescribeExecution.
    const sfnCalls = rig.endpoint.countCalls({ service: 'sfn' });
    expect(rig.tally(failures).redriven).toBe(50);
    expect(rig.endpoint.countCalls({ operation: 'DescribeExecution' })).toBe(0);
    expect((sfnCalls + rig.dynamoDbCalls()) / 50).toBe(3);
  });
});
