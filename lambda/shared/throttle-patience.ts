/**
 * Patience with throttling inside one invocation.
 *
 * During an outage thousands of failures arrive at once and the API's token
 * bucket (RedriveExecution: 800 burst, 150/s in most regions) throttles most
 * calls. Handing each throttled failure back to SQS would delay it by a whole
 * visibility timeout and could park it after a few receives; the SDK's own
 * retries give up after three attempts and share a small retry quota. Instead a
 * throttled call is retried here with short, fully jittered waits until the
 * invocation's deadline, so the bucket is drained as fast as it refills and no
 * failure waits longer than it must. Past the deadline the throttling error
 * surfaces and the message is retried through the buffer as before.
 */
import { isThrottlingError } from './aws-errors';

// The SDK's own throttling rule (HTTP 429, its list of throttling names, the `throttling` trait).
export { isThrottlingError };

/** Waits between throttled attempts: full jitter over `min(capMs, baseMs × 2^attempt)`. */
export const THROTTLE_BACKOFF = { baseMs: 50, capMs: 500 } as const;

/** How long a throttled call may keep trying. */
export interface Patience {
  /** Epoch milliseconds after which a throttled call gives up and its error surfaces. */
  readonly deadline: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call`, retrying it while AWS throttles it and the deadline allows.
 * Any other error, and a throttling error at the deadline, is thrown unchanged.
 *
 * @example
 * ```ts
 * const output = await patientlyThrottled(() => sfn.send(command), { deadline: Date.now() + 20_000 });
 * ```
 */
export async function patientlyThrottled<T>(
  call: () => Promise<T>,
  patience: Patience,
): Promise<T> {
  const now = patience.now ?? Date.now;
  const sleep = patience.sleep ?? sleepFor;
  const random = patience.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottlingError(error)) throw error;
      const ceiling = Math.min(THROTTLE_BACKOFF.capMs, THROTTLE_BACKOFF.baseMs * 2 ** attempt);
      const wait = Math.ceil(random() * ceiling);
      if (now() + wait >= patience.deadline) throw error;
      await sleep(wait);
    }
  }
}

/**
 * The deadline for work started now in an invocation with `remainingMs` left:
 * a quarter of the remaining time (at most 5 s) is kept back to record the
 * outcome and park or release the message.
 */
export function invocationDeadline(now: number, remainingMs: number): number {
  const margin = Math.min(5_000, remainingMs / 4);
  return now + remainingMs - margin;
}

/**
 * The moment by which every AWS call of an invocation with `remainingMs` left
 * must have ended, including those that record the outcome after
 * {@link invocationDeadline} (parking a message): a tenth of the remaining time
 * (at most 1 s) is kept back for the handler to return its answer.
 */
export function invocationEnd(now: number, remainingMs: number): number {
  return now + remainingMs - Math.min(1_000, remainingMs / 10);
}
