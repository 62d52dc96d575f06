/**
 * Step Functions events are best effort. When some never arrive, one run of
 * the sweeper (one period) finds those failures with ListExecutions and feeds
 * them into the same redrive path, and the failures whose events did arrive
 * are not redriven a second time.
 */
import { lostEventsRun } from '../support/resilience/scenarios';

jest.setTimeout(60_000);

describe('sweeper recovers lost events', () => {
  it('redrives every failure whose event was dropped, within one sweep, and none twice', async () => {
    // Prepare / Act: 5% of 200 events dropped before delivery.
    const figures = await lostEventsRun({ failures: 200, dropRatio: 0.05 });

    // Assess
    expect(figures).toMatchObject({
      failures: 200,
      dropped: 10,
      recovered: 10,
      duplicates: 0,
      lost: 0,
    });
    expect(figures.sweep).toMatchObject({ enqueued: 10, truncated: false });
  });
});
