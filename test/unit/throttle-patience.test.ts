/**
 * patientlyThrottled: throttling is waited out until the deadline with jittered
 * waits; anything else, and throttling past the deadline, surfaces at once.
 */
import {
  invocationDeadline,
  isThrottlingError,
  patientlyThrottled,
  THROTTLE_BACKOFF,
} from '../../lambda/shared/throttle-patience';

const named = (name: string) => Object.assign(new Error(name), { name });

/** A virtual clock whose sleep advances it, recording every wait. */
function virtualTime(start = 1_000_000) {
  let now = start;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    waits,
  };
}

/** A call that fails with `errors` in turn, then answers 'done'. */
function failingThen(errors: Error[]) {
  let calls = 0;
  const call = async () => {
    calls++;
    const error = errors.shift();
    if (error) throw error;
    return 'done';
  };
  return { call, calls: () => calls };
}

describe('patientlyThrottled', () => {
  it.each([
    'ThrottlingException',
    'TooManyRequestsException',
    'Throttling',
    'RequestLimitExceeded',
  ])('retries %s until the call succeeds', async (name) => {
    // Prepare
    const time = virtualTime();
    const { call, calls } = failingThen([named(name), named(name), named(name)]);

    // Act
    const result = await patientlyThrottled(call, {
      deadline: time.now() + 10_000,
      ...time,
      random: () => 0.5,
    });

    // Assess
    expect(result).toBe('done');
    expect(calls()).toBe(4);
    expect(time.waits).toEqual([25, 50, 100]);
  });

  it.each(['InternalFailure', 'ExecutionLimitExceeded', 'ValidationException'])(
    'throws %s at once, without waiting',
    async (name) => {
      // Prepare
      const time = virtualTime();
      const { call, calls } = failingThen([named(name)]);

      // Act
      const attempt = patientlyThrottled(call, { deadline: time.now() + 10_000, ...time });

      // Assess
      await expect(attempt).rejects.toMatchObject({ name });
      expect(calls()).toBe(1);
      expect(time.waits).toEqual([]);
    },
  );

  it('gives up with the throttling error when the next wait would pass the deadline', async () => {
    // Prepare
    const time = virtualTime();
    const errors = Array.from({ length: 1_000 }, () => named('ThrottlingException'));
    const { call } = failingThen(errors);
    const deadline = time.now() + 3_000;

    // Act
    const attempt = patientlyThrottled(call, { deadline, ...time, random: () => 0.99 });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(time.now()).toBeLessThan(deadline);
    expect(Math.max(...time.waits)).toBeLessThanOrEqual(THROTTLE_BACKOFF.capMs);
  });
});

describe('isThrottlingError', () => {
  it.each([
    { error: named('ThrottlingException'), throttling: true },
    { error: named('InternalFailure'), throttling: false },
    { error: 'ThrottlingException', throttling: false },
  ])('says $throttling for $error', ({ error, throttling }) => {
    expect(isThrottlingError(error)).toBe(throttling);
  });
});

describe('invocationDeadline', () => {
  it.each([
    { remainingMs: 30_000, deadlineIn: 25_000 },
    { remainingMs: 4_000, deadlineIn: 3_000 },
  ])('keeps back min(5 s, a quarter) of $remainingMs ms', ({ remainingMs, deadlineIn }) => {
    expect(invocationDeadline(1_000, remainingMs)).toBe(1_000 + deadlineIn);
  });
});
