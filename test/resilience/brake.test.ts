/**
 * The storm brake's evidence at small size (`npm run bench` runs it at full
 * size): the real redrive handler, in five environments, against a state
 * machine whose downstream is broken for two simulated minutes. Every redrive
 * made during the outage fails again and its relapse event comes back through
 * the rule into the work queue, as in AWS. The naive baseline (no breaker)
 * is what the brake is measured against: it redrives into the outage until it
 * gives up. With the breaker on, the real handler records each relapse in
 * the healing state table on DynamoDB Local, opens the machine's breaker and
 * holds the failures that follow.
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
    // given up for good: 29 to 45 of 100 in our runs (the later ones heal after the recovery).
    expect(figures.gaveUp).toBeGreaterThanOrEqual(20);
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

describe('a broken downstream, with the breaker', () => {
  it('opens after minRelapses relapses, holds the failures, probes after the cool-down, closes on their recovery and heals every failure, with one notice each way', async () => {
    // Prepare / Act: the same outage, the breaker's defaults (20 relapses, 80% of the settled
    // redrives of 10 minutes, 5 minutes of cool-down, 3 probes), the keeper every minute.
    const figures = await brokenDownstream({ failures: 100, brokenMinutes: 2, breaker: 'on' });

    // Assess: every failure healed, none lost, given up or redriven twice; one notice each way.
    expect(figures).toMatchObject({
      failures: 100,
      healedAfterRecovery: 100,
      gaveUp: 0,
      held: 0,
      lost: 0,
      duplicates: 0,
      notices: { 'breaker-opened': 1, 'breaker-closed': 1 },
      abandoned: false,
    });
    // It opened on the 20th relapse: the redrives wasted before are each a relapse, a fraction
    // of the baseline's (170 to 214 of 100 failures in our runs).
    const { timeline } = figures;
    expect(sum(timeline.map((s) => s.relapses))).toBe(figures.wastedRedrives);
    expect(figures.wastedRedrives).toBeGreaterThanOrEqual(20);
    expect(figures.wastedRedrives).toBeLessThan(60);
    // Closed, open, half-open (the probes), closed.
    const states = timeline.map((s) => s.breaker).filter((s, i, all) => s !== all[i - 1]);
    expect(states).toEqual(['closed', 'open', 'half-open', 'closed']);
    // While open, no redrive once every environment saw it (their reads are cached 5 s);
    // half-open, the 3 probes alone.
    const opened = timeline.findIndex((s) => s.breaker === 'open');
    const open = timeline.filter((s, i) => s.breaker === 'open' && i >= opened + 10);
    expect(sum(open.map((s) => s.redrives))).toBe(0);
    expect(sum(timeline.filter((s) => s.breaker === 'half-open').map((s) => s.redrives))).toBe(3);
    expect(timeline.filter((s) => s.second < 120).every((s) => s.recoveries === 0)).toBe(true);
    // With the breaker on, the rule lets redriven successes in (the recovery signal): only the
    // RUNNING events were kept out.
    expect(figures.eventsFiltered).toBe(figures.redrives);
  });
});
