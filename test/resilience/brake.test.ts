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

describe('a broken downstream, with the breaker (the handler: opening and holding)', () => {
  it('opens once the relapses reach minRelapses, then holds every failure instead of redriving it, with one notice', async () => {
    // Prepare / Act: the same outage; the breaker's defaults (20 relapses, 80% of the settled
    // redrives of 10 minutes). Without the keeper nothing half-opens: the run ends with the
    // failures held, which is the handler's part of the brake alone.
    const figures = await brokenDownstream({
      failures: 100,
      brokenMinutes: 2,
      breaker: 'on',
      withKeeper: false,
    });

    // Assess: one opening, one notice, and every failure is held, none lost, none given up.
    expect(figures).toMatchObject({
      failures: 100,
      lost: 0,
      duplicates: 0,
      gaveUp: 0,
      healedAfterRecovery: 0,
      held: 100,
      notices: { 'breaker-opened': 1 },
      abandoned: false,
    });
    // The redrives made before it opened: each came back as a relapse, the 20th opened it.
    const { timeline } = figures;
    expect(sum(timeline.map((s) => s.relapses))).toBe(figures.wastedRedrives);
    expect(figures.wastedRedrives).toBeGreaterThanOrEqual(20);
    expect(figures.wastedRedrives).toBeLessThan(60);
    // Once open, it stays open (no keeper) and no redrive is made after the relapses it saw.
    const opened = timeline.findIndex((s) => s.breaker === 'open');
    expect(opened).toBeGreaterThan(0);
    expect(timeline.slice(opened).every((s) => s.breaker === 'open')).toBe(true);
    expect(sum(timeline.slice(opened + 10).map((s) => s.redrives))).toBe(0);
    // The recovery signal's rule: successes of redriven executions reach the queue only with
    // the breaker on; here none succeeded, so only the RUNNING events were kept out.
    expect(figures.eventsFiltered).toBe(figures.redrives);
  });
});
