/**
 * The storm brake's evidence at small size (`npm run bench` runs it at full
 * size): the real redrive handler, in five environments, against a state
 * machine whose downstream is broken for two simulated minutes. Every redrive
 * made during the outage fails again and its relapse event comes back through
 * the rule into the work queue, as in AWS. The naive baseline (no breaker)
 * is what the brake is measured against: it redrives into the outage until it
 * gives up.
 */
import { brokenDownstream } from '../support/resilience/brake-scenarios';

jest.setTimeout(180_000);

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('a broken downstream, without the breaker (the naive baseline)', () => {
  it('redrives into the outage until it gives up, healing only what it redrives after the recovery', async () => {
    // Prepare / Act: 100 failures over an outage of 2 simulated minutes, 3 redrives each at most.
    const figures = await brokenDownstream({ failures: 100, brokenMinutes: 2, breaker: 'off' });

    // Assess: nothing lost or redriven twice; every failure either healed or given up, with one notice each.
    expect(figures).toMatchObject({ failures: 100, lost: 0, duplicates: 0, abandoned: false });
    expect(figures.healedAfterRecovery + figures.gaveUp).toBe(100);
    expect(figures.notices).toEqual({ 'redrive-gave-up': figures.gaveUp });
    // The storm: a failure whose three redrives (10, 20, 40 s apart) all fall in the outage is
    // given up for good: the first third of them at least (45 of 100 on a quiet machine).
    expect(figures.gaveUp).toBeGreaterThanOrEqual(30);
    expect(figures.wastedRedrives).toBeGreaterThanOrEqual(3 * figures.gaveUp);
    // Each wasted redrive came back as a relapse; each heal as a recovery, after the outage.
    const { timeline } = figures;
    expect(sum(timeline.map((s) => s.relapses))).toBe(figures.wastedRedrives);
    expect(sum(timeline.map((s) => s.recoveries))).toBe(figures.healedAfterRecovery);
    expect(timeline.filter((s) => s.second < 120).every((s) => s.recoveries === 0)).toBe(true);
    expect(timeline.every((s) => s.breaker === 'off')).toBe(true);
    // The rule lets no RUNNING event in, and without the breaker no success either.
    expect(figures.eventsFiltered).toBe(figures.redrives + figures.healedAfterRecovery);
  });
});
