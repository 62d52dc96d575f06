/**
 * The brake scenarios' simulated clock: it runs with real time at its scale,
 * skips ahead over idle spans, and never runs backwards when its scale changes.
 */
import { SimulatedClock } from '../support/resilience/simulated-clock';

const T0 = Date.parse('2026-11-30T09:00:00Z');
const busyWait = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spins: the clock reads performance.now()
  }
};

describe('SimulatedClock', () => {
  it.each([
    { timeScale: 1000, atLeast: 20, below: 200 },
    { timeScale: 100, atLeast: 200, below: 2000 },
  ])('runs $timeScale real ms per simulated second', ({ timeScale, atLeast, below }) => {
    // Prepare
    const clock = new SimulatedClock(T0, timeScale);

    // Act: 20 real ms
    busyWait(20);

    // Assess
    expect(clock.now() - T0).toBeGreaterThanOrEqual(atLeast);
    expect(clock.now() - T0).toBeLessThan(below);
  });

  it('skips ahead to a later time, and ignores a time already past', () => {
    // Prepare
    const clock = new SimulatedClock(T0);

    // Act
    clock.skipTo(T0 + 600_000);
    const afterSkip = clock.now();
    clock.skipTo(T0 + 1_000);

    // Assess
    expect(afterSkip).toBeGreaterThanOrEqual(T0 + 600_000);
    expect(clock.now()).toBeGreaterThanOrEqual(afterSkip);
    expect(clock.skipped).toBeGreaterThan(599_000);
  });

  it('keeps its time when its scale changes, then runs at the new one', () => {
    // Prepare
    const clock = new SimulatedClock(T0, 1000);
    busyWait(10);
    const before = clock.now();

    // Act
    clock.setTimeScale(10);
    busyWait(10);

    // Assess: 10 real ms at 10 ms a second is a simulated second or more.
    expect(clock.now() - before).toBeGreaterThanOrEqual(1_000);
    expect(clock.now() - before).toBeLessThan(60_000);
  });
});
