/**
 * The redrive path when everything around it fails: Step Functions answers
 * 20% of calls with a 5xx, 2% with ExecutionLimitExceeded, leaves 2% of
 * connections hanging, and DynamoDB
 * (the idempotency store) is stopped and restarted mid-run. Every failure must
 * end either redriven or parked in the dead-letter queue with its reason, and
 * none may be redriven twice.
 */
import { faultRun } from '../support/resilience/scenarios';

jest.setTimeout(120_000);

describe('redrive under faults', () => {
  it('ends every failure redriven or parked with its reason, none twice, through 5xx, hangs and a DynamoDB restart', async () => {
    // Prepare / Act
    const figures = await faultRun({ failures: 120, restartAfter: 20 });

    // Assess
    expect(figures.serverErrors).toBeGreaterThan(0);
    expect(figures.hungCalls).toBeGreaterThan(0);
    expect(figures.executionLimitExceeded).toBeGreaterThan(0);
    expect(figures).toMatchObject({ duplicates: 0, lost: 0, abandoned: false });
    expect(figures.redriven + figures.parkedWithReason).toBe(120);
    expect(figures.redriven).toBeGreaterThan(0);
  });
});
