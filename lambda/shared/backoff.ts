/**
 * The retry/delay policy engine shared by every healer.
 *
 * Jitter is derived from a hash of the failure's key rather than from
 * `Math.random()`: every redelivery, deferral hop and concurrent duplicate of
 * one failure computes the same due time, while a storm of distinct failures
 * still spreads out.
 */
import { createHash } from 'node:crypto';
import type { DelayPolicy } from './autoheal-config';

/** A number in [0, 1) that is stable for a given seed. */
export function stableFraction(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Seconds to wait before attempt number `attempt` (0 for the first attempt).
 *
 * @example
 * ```ts
 * delayBeforeAttempt({ baseSeconds: 60, factor: 4, capSeconds: 3600, jitterRatio: 0 }, 2, 'k'); // 960
 * ```
 */
export function delayBeforeAttempt(
  policy: DelayPolicy,
  attempt: number,
  jitterSeed: string,
): number {
  const exponential = policy.baseSeconds * policy.factor ** attempt;
  const capped = Math.min(policy.capSeconds, exponential);
  const jitter = capped * policy.jitterRatio * stableFraction(jitterSeed);
  return Math.round(capped - jitter);
}
