/**
 * The notice storm at small size (`npm run bench` runs it at 10,000): give-up
 * and skip notices of 3 state machines and 2 reasons within 5 minutes, from 4
 * environments at once, across a digest window's end. The operator gets at
 * most 2 messages per (machine, reason) and window, and every notice not sent
 * on its own is counted in a digest.
 */
import { noticeStorm } from '../support/resilience/notice-storm';

describe('notice storm', () => {
  it('sends at most 2 messages per (machine, reason) and window, and counts every other notice in a digest', async () => {
    // Prepare
    const machines = 3;
    const reasons = 2;

    // Act
    const storm = await noticeStorm({
      notices: 600,
      machines,
      reasons,
      minutes: 5,
      environments: 4,
    });

    // Assess
    expect(storm.total).toBe(600);
    expect(storm.windows).toBe(2);
    expect(storm.maxSentPerKeyAndWindow).toBe(2);
    expect(storm.sent).toBeLessThanOrEqual(2 * machines * reasons * storm.windows);
    expect(storm.sentImmediately).toBe(machines * reasons * storm.windows);
    expect(storm.digests).toBe(machines * reasons * storm.windows);
    expect(storm.suppressedButCounted).toBe(storm.total - storm.sentImmediately);
    expect(storm.uncounted).toBe(0);
  }, 180_000);
});
