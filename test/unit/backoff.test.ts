/**
 * The delay policy engine: `min(cap, base × factor^attempt)` seconds, shortened
 * by a jitter of up to `jitterRatio` of itself that is stable per failure key.
 */
import type { DelayPolicy } from '../../lambda/shared/autoheal-config';
import { delayBeforeAttempt, stableFraction } from '../../lambda/shared/backoff';

const DEFAULT_DELAY: DelayPolicy = {
  baseSeconds: 60,
  factor: 4,
  capSeconds: 3600,
  jitterRatio: 0.2,
};
const NO_JITTER: DelayPolicy = { ...DEFAULT_DELAY, jitterRatio: 0 };

const seeds = (count: number, prefix = 'seed') =>
  Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe('delayBeforeAttempt', () => {
  it.each([
    { attempt: 0, expected: 60 }, // 60 × 4⁰
    { attempt: 1, expected: 240 }, // 60 × 4¹
    { attempt: 2, expected: 960 }, // 60 × 4²
    { attempt: 3, expected: 3600 }, // 60 × 4³ = 3840, capped
    { attempt: 10, expected: 3600 },
    { attempt: 1000, expected: 3600 }, // 4^1000 overflows to Infinity: still the cap
  ])('without jitter waits $expected s before attempt $attempt', ({ attempt, expected }) => {
    // Prepare
    const seed = 'arn:aws:states:eu-central-1:123456789012:execution:autoheal-demo-orders:x#0';

    // Act
    const delay = delayBeforeAttempt(NO_JITTER, attempt, seed);

    // Assess
    expect(delay).toBe(expected);
  });

  it.each([
    {
      policy: { baseSeconds: 30, factor: 1, capSeconds: 3600, jitterRatio: 0 },
      attempt: 5,
      expected: 30,
    },
    {
      policy: { baseSeconds: 10, factor: 2.5, capSeconds: 3600, jitterRatio: 0 },
      attempt: 2,
      expected: 63,
    }, // 62.5 rounded
    {
      policy: { baseSeconds: 0, factor: 4, capSeconds: 0, jitterRatio: 0.2 },
      attempt: 3,
      expected: 0,
    },
    {
      policy: { baseSeconds: 600, factor: 4, capSeconds: 600, jitterRatio: 0 },
      attempt: 2,
      expected: 600,
    },
  ])('waits $expected s before attempt $attempt under $policy', ({ policy, attempt, expected }) => {
    // Prepare
    const seed = 'k';

    // Act
    const delay = delayBeforeAttempt(policy, attempt, seed);

    // Assess
    expect(delay).toBe(expected);
  });

  it.each([
    { attempt: 0, nominal: 60 },
    { attempt: 1, nominal: 240 },
    { attempt: 2, nominal: 960 },
    { attempt: 3, nominal: 3600 },
  ])(
    'with 20 % jitter waits whole seconds from 80 % to 100 % of $nominal s before attempt $attempt',
    ({ attempt, nominal }) => {
      // Prepare
      const keys = seeds(200);

      // Act
      const delays = keys.map((key) => delayBeforeAttempt(DEFAULT_DELAY, attempt, key));

      // Assess
      for (const delay of delays) {
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0.8 * nominal);
        expect(delay).toBeLessThanOrEqual(nominal);
      }
      expect(new Set(delays).size).toBeGreaterThan(1);
    },
  );

  it('with full jitter waits anywhere from 0 to the nominal delay', () => {
    // Prepare
    const fullJitter = { ...DEFAULT_DELAY, jitterRatio: 1 };

    // Act
    const delays = seeds(500).map((key) => delayBeforeAttempt(fullJitter, 1, key));

    // Assess
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(240);
    // Far below 80 % of the nominal delay: the ratio, not a fixed 20 %, bounds the jitter.
    expect(Math.min(...delays)).toBeLessThan(0.5 * 240);
  });

  it('gives the same delay for the same key, every time', () => {
    // Prepare
    const key =
      'arn:aws:states:eu-central-1:123456789012:execution:autoheal-demo-orders:order-1042#1';

    // Act
    const delays = Array.from({ length: 5 }, () => delayBeforeAttempt(DEFAULT_DELAY, 1, key));

    // Assess
    expect(new Set(delays).size).toBe(1);
  });
});

describe('stableFraction', () => {
  it('returns the same fraction for the same seed', () => {
    // Prepare
    const seed =
      'arn:aws:states:eu-central-1:123456789012:execution:autoheal-demo-orders:order-1042#0';

    // Act
    const first = stableFraction(seed);
    const second = stableFraction(seed);

    // Assess
    expect(second).toBe(first);
  });

  it('returns fractions in [0, 1) that spread over the whole range', () => {
    // Prepare
    const keys = seeds(1000, 'order');

    // Act
    const fractions = keys.map(stableFraction);

    // Assess
    for (const fraction of fractions) {
      expect(fraction).toBeGreaterThanOrEqual(0);
      expect(fraction).toBeLessThan(1);
    }
    const tenths = new Set(fractions.map((fraction) => Math.floor(fraction * 10)));
    expect([...tenths].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('gives different fractions to the failures of one execution', () => {
    // Prepare
    const arn =
      'arn:aws:states:eu-central-1:123456789012:execution:autoheal-demo-orders:order-1042';

    // Act
    const fractions = [0, 1, 2, 3].map((redriveCount) => stableFraction(`${arn}#${redriveCount}`));

    // Assess
    expect(new Set(fractions).size).toBe(4);
  });
});
