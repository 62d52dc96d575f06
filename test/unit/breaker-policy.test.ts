/**
 * The storm brake's pure decisions: the sliding window, when a breaker opens,
 * when its cool-down ends and how it grows, what half-open decides, that a
 * forced state wins, and the evidence an opened notice carries.
 */
import {
  type BreakerOptions,
  type BreakerView,
  breakerClosedNotice,
  breakerEvidence,
  breakerOpenedNotice,
  breakerStateGauge,
  bucketLengthMs,
  bucketOf,
  cooldownMs,
  DEFAULT_BREAKER_OPTIONS,
  evaluateBreaker,
  NEW_BREAKER,
  openingsAfter,
  shouldOpen,
  WINDOW_SLOTS,
  windowCounts,
} from '../../lambda/redrive/breaker/breaker-policy';

const MINUTE = 60_000;
const NOW = Date.parse('2026-03-02T10:00:00.000Z');
const MACHINE = 'arn:aws:states:eu-central-1:123456789012:stateMachine:orders-fulfilment';
const OPTIONS = DEFAULT_BREAKER_OPTIONS;

function view(overrides: Partial<BreakerView> = {}): BreakerView {
  return { ...NEW_BREAKER, ...overrides };
}

describe('defaults', () => {
  it('are the documented ones', () => {
    expect(DEFAULT_BREAKER_OPTIONS).toEqual({
      enabled: true,
      windowMinutes: 10,
      minRelapses: 20,
      relapseRatio: 0.8,
      cooldownMinutes: 5,
      cooldownFactor: 2,
      maxCooldownMinutes: 60,
      probes: 3,
    });
  });
});

describe('sliding window', () => {
  it.each([
    // windowMinutes, bucket length
    [10, MINUTE],
    [1, 6_000],
    [60, 6 * MINUTE],
    [0.01, 1000], // never shorter than a second
  ])('a %d-minute window has buckets of %d ms', (windowMinutes, expected) => {
    // Act
    const length = bucketLengthMs(windowMinutes);

    // Assess
    expect(length).toBe(expected);
  });

  it('spreads consecutive buckets over all slots and comes round after a window', () => {
    // Prepare
    const times = Array.from({ length: WINDOW_SLOTS + 1 }, (_, i) => NOW + i * MINUTE);

    // Act
    const slots = times.map((t) => bucketOf(t, 10).slot);

    // Assess
    expect(new Set(slots.slice(0, WINDOW_SLOTS)).size).toBe(WINDOW_SLOTS);
    expect(slots[WINDOW_SLOTS]).toBe(slots[0]);
    expect(bucketOf(NOW + 30_000, 10).start).toBe(bucketOf(NOW, 10).start);
  });

  it.each([
    ['a bucket of this minute', 0, 1],
    ['a bucket 9 minutes old', 9, 1],
    ['a bucket 10 minutes old (left the window)', 10, 0],
    ['a bucket from the future (clock skew)', -1, 1],
  ])('counts %s: %d minutes ago → %d', (_, minutesAgo, expected) => {
    // Prepare
    const start = bucketOf(NOW - minutesAgo * MINUTE, 10).start;

    // Act
    const counts = windowCounts([{ start, relapses: 1, recoveries: 0 }], 10, NOW);

    // Assess
    expect(counts.relapses).toBe(expected);
  });
});

describe('when a closed breaker opens', () => {
  it.each([
    // relapses, recoveries, opens
    [20, 5, true], // 20 of 25 = 0.8
    [20, 6, false], // below the ratio
    [19, 0, false], // below minRelapses
    [100, 0, true],
    [0, 0, false],
  ])('%d relapses and %d recoveries in the window: opens = %s', (relapses, recoveries, opens) => {
    // Prepare
    const closed = view({ relapses, recoveries });

    // Act
    const verdict = evaluateBreaker(closed, OPTIONS, NOW);

    // Assess
    expect(verdict.state).toBe('closed');
    expect(verdict.transition === 'open').toBe(opens);
    expect(shouldOpen(relapses, recoveries, OPTIONS)).toBe(opens);
  });

  it('recomputes the counts from the buckets at the time of the decision', () => {
    // Prepare: 25 relapses 11 minutes before the decision
    const old = bucketOf(NOW - 11 * MINUTE, 10).start;
    const stale = view({ relapses: 25, buckets: [{ start: old, relapses: 25, recoveries: 0 }] });

    // Act
    const verdict = evaluateBreaker(stale, OPTIONS, NOW);

    // Assess
    expect(verdict).toMatchObject({ state: 'closed', relapses: 0 });
    expect(verdict.transition).toBeUndefined();
  });
});

describe('cool-down', () => {
  it.each([
    // openings, minutes
    [1, 5],
    [2, 10],
    [3, 20],
    [4, 40],
    [5, 60], // capped
    [12, 60],
    [0, 5],
  ])('after opening number %d it lasts %d minutes', (openings, minutes) => {
    // Act
    const ms = cooldownMs(openings, OPTIONS);

    // Assess
    expect(ms).toBe(minutes * MINUTE);
  });

  it.each([
    ['just opened', 0, 'open', undefined],
    ['one ms before the end', 5 * MINUTE - 1, 'open', undefined],
    ['at the end', 5 * MINUTE, 'open', 'half-open'],
  ] as const)('an open breaker %s: %s, transition %s', (_, elapsed, state, transition) => {
    // Prepare
    const open = view({ state: 'open', openings: 1, openedAt: NOW - elapsed, version: 1 });

    // Act
    const verdict = evaluateBreaker(open, OPTIONS, NOW);

    // Assess
    expect(verdict.state).toBe(state);
    expect(verdict.transition).toBe(transition);
    expect(verdict.cooldownEndsAt).toBe(NOW - elapsed + 5 * MINUTE);
  });

  it.each([
    ['closed an hour ago (calm as long as the longest cool-down)', 'closed', 60 * MINUTE, 1],
    ['closed 59 minutes ago', 'closed', 59 * MINUTE, 4],
    ['never closed', 'closed', undefined, 4],
    ['half-open', 'half-open', 60 * MINUTE, 4],
  ] as const)(
    'opening a breaker %s (%s, closed %p ms ago) stores openings %d',
    (_, state, closedAgo, expected) => {
      // Prepare
      const before = view({
        state,
        openings: 3,
        closedAt: closedAgo === undefined ? undefined : NOW - closedAgo,
      });

      // Act
      const openings = openingsAfter(before, OPTIONS, NOW);

      // Assess
      expect(openings).toBe(expected);
    },
  );
});

describe('half-open', () => {
  it.each([
    ['a probe relapsed', 1, 0, 'open'],
    ['a probe relapsed and another recovered', 1, 1, 'open'],
    ['a probe recovered', 0, 1, 'closed'],
    ['nothing settled yet', 0, 0, undefined],
  ] as const)('%s → transition %s', (_, relapses, recoveries, transition) => {
    // Prepare
    const halfOpen = view({
      state: 'half-open',
      openings: 2,
      halfOpenAt: NOW - MINUTE,
      relapses,
      recoveries,
    });

    // Act
    const verdict = evaluateBreaker(halfOpen, OPTIONS, NOW);

    // Assess
    expect(verdict.state).toBe('half-open');
    expect(verdict.transition).toBe(transition);
  });

  it('probes again when nothing settled within the cool-down', () => {
    // Prepare: second opening, 10-minute cool-down
    const halfOpen = view({ state: 'half-open', openings: 2, halfOpenAt: NOW - 10 * MINUTE });

    // Act
    const verdict = evaluateBreaker(halfOpen, OPTIONS, NOW);

    // Assess
    expect(verdict).toMatchObject({ state: 'half-open', transition: 'half-open' });
  });
});

describe('forced and disabled', () => {
  it.each([
    [
      'forced open over a closed breaker above the thresholds',
      view({ forced: 'open', relapses: 50 }),
      'open',
    ],
    [
      'forced closed over an open breaker past its cool-down',
      view({ forced: 'closed', state: 'open', openings: 1, openedAt: NOW - 60 * MINUTE }),
      'closed',
    ],
    [
      'forced closed over a half-open breaker with a relapse',
      view({ forced: 'closed', state: 'half-open', relapses: 1 }),
      'closed',
    ],
  ] as const)('%s: effective state as forced, no transition', (_, forced, state) => {
    // Act
    const verdict = evaluateBreaker(forced, OPTIONS, NOW);

    // Assess
    expect(verdict.state).toBe(state);
    expect(verdict.transition).toBeUndefined();
  });

  it.each([
    ['closed', undefined],
    ['open', 'closed'],
    ['half-open', 'closed'],
  ] as const)('a disabled breaker stored %s is closed (transition %s)', (state, transition) => {
    // Prepare
    const stored = view({ state, relapses: 100, openings: 1, openedAt: NOW });

    // Act
    const verdict = evaluateBreaker(stored, { ...OPTIONS, enabled: false }, NOW);

    // Assess
    expect(verdict.state).toBe('closed');
    expect(verdict.transition).toBe(transition);
  });
});

describe('evidence and notices', () => {
  const storm = view({
    relapses: 40,
    recoveries: 2,
    topErrors: {
      'States.Timeout': 5,
      'Lambda.ServiceException': 30,
      'States.TaskFailed': 5,
      Other: 1,
    },
  });

  it('names the counts, the window and the top error names, most first', () => {
    // Act
    const evidence = breakerEvidence(storm, OPTIONS, NOW, 2);

    // Assess
    expect(evidence).toEqual({
      relapses: 40,
      recoveries: 2,
      relapseRatio: 0.952,
      windowMinutes: 10,
      topErrors: [
        { name: 'Lambda.ServiceException', count: 30 },
        { name: 'States.TaskFailed', count: 5 },
        { name: 'States.Timeout', count: 5 },
      ],
      openings: 2,
      cooldownMinutes: 10,
    });
  });

  it('the breaker-opened notice carries the evidence and when probes start', () => {
    // Act
    const notice = breakerOpenedNotice(MACHINE, storm, OPTIONS, NOW);

    // Assess
    expect(notice).toMatchObject({
      kind: 'breaker-opened',
      reason: 'relapse-storm',
      facts: {
        stateMachineArn: MACHINE,
        relapses: 40,
        recoveries: 2,
        windowMinutes: 10,
        topErrors: 'Lambda.ServiceException (30), States.TaskFailed (5), States.Timeout (5)',
        openings: 1,
        cooldownMinutes: 5,
        probesAfter: new Date(NOW + 5 * MINUTE).toISOString(),
      },
    });
    expect(notice.subject).toContain('orders-fulfilment');
    expect(notice.subject.length).toBeLessThanOrEqual(100);
  });

  it('a re-opening after a relapsed probe says so', () => {
    // Act
    const notice = breakerOpenedNotice(
      MACHINE,
      view({ state: 'half-open', openings: 1, relapses: 1 }),
      OPTIONS,
      NOW,
    );

    // Assess
    expect(notice).toMatchObject({
      reason: 'probe-relapsed',
      facts: { openings: 2, cooldownMinutes: 10 },
    });
  });

  it('the breaker-closed notice names the machine and the recovery', () => {
    // Act
    const notice = breakerClosedNotice(
      MACHINE,
      view({ state: 'half-open', openings: 2, recoveries: 1 }),
      OPTIONS,
      NOW,
    );

    // Assess
    expect(notice).toMatchObject({
      kind: 'breaker-closed',
      reason: 'probe-recovered',
      facts: { stateMachineArn: MACHINE, recoveries: 1 },
    });
  });

  it.each([
    ['closed', 0],
    ['half-open', 1],
    ['open', 2],
  ] as const)('the BreakerState gauge of %s is %d', (state, gauge) => {
    expect(breakerStateGauge(state)).toBe(gauge);
  });
});

describe('options other than the defaults', () => {
  const sensitive: BreakerOptions = {
    ...OPTIONS,
    minRelapses: 3,
    relapseRatio: 0.5,
    cooldownMinutes: 1,
    cooldownFactor: 3,
    maxCooldownMinutes: 5,
  };

  it.each([
    [3, 3, true],
    [3, 4, false],
    [2, 0, false],
  ])(
    'minRelapses 3, ratio 0.5: %d relapses, %d recoveries → opens %s',
    (relapses, recoveries, opens) => {
      expect(
        evaluateBreaker(view({ relapses, recoveries }), sensitive, NOW).transition === 'open',
      ).toBe(opens);
    },
  );

  it.each([
    [1, 1],
    [2, 3],
    [3, 5],
  ])('factor 3, cap 5: opening %d cools down %d minutes', (openings, minutes) => {
    expect(cooldownMs(openings, sensitive)).toBe(minutes * MINUTE);
  });
});
