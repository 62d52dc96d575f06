/**
 * The redrive path under storms, through the real AWS SDK to the local AWS
 * endpoint and DynamoDB Local, with several execution environments draining
 * the work queue at once: what a user checks after an outage — every failure
 * redriven, none twice, none lost. Sizes are small here; `npm run bench` runs
 * the full-size versions and measures the time.
 */
import {
  badInputRun,
  costRun,
  duplicateStorm,
  throttledStorm,
} from '../support/resilience/scenarios';

jest.setTimeout(60_000);

describe('redrive storms', () => {
  it('redrives each failure exactly once when 30% of the events arrive twice, from 4 environments at once', async () => {
    // Prepare / Act
    const figures = await duplicateStorm({ failures: 200, duplicateRatio: 0.3, environments: 4 });

    // Assess
    expect(figures).toMatchObject({
      delivered: 260,
      failures: 200,
      redriven: 200,
      duplicates: 0,
      lost: 0,
      abandoned: false,
    });
  });

  it('redrives every failure once, parking none, while RedriveExecution is throttled', async () => {
    // Prepare / Act: a quota well below the storm, so most calls are throttled at first. The
    // burst is below the first wave of calls (5 environments, a batch each), so calls are
    // throttled however slowly a loaded machine drains; a burst of 50 at 100/s was not.
    const figures = await throttledStorm({
      failures: 300,
      quota: { burst: 20, perSecond: 50 },
    });

    // Assess
    expect(figures.throttledCalls).toBeGreaterThan(0);
    expect(figures).toMatchObject({
      failures: 300,
      redriven: 300,
      duplicates: 0,
      lost: 0,
      parkedWithReason: 0,
      abandoned: false,
    });
  });

  it('costs 3 AWS calls per redrive when the event carries the redrive fields', async () => {
    // Prepare / Act
    const figures = await costRun({ failures: 50 });

    // Assess: a put and an update of the idempotency record, and the redrive; no DescribeExecution.
    expect(figures).toEqual({ redriven: 50, awsCalls: 150, describeCalls: 0, callsPerRedrive: 3 });
  });

  it('parks each of 1,000 malformed events naming its field, with no AWS call for any', async () => {
    // Prepare / Act
    const figures = await badInputRun({ count: 1_000 });

    // Assess
    expect(figures).toEqual({
      generated: 1_000,
      rejectedWithReason: 1_000,
      awsCalls: 0,
      abandoned: false,
    });
  });
});
