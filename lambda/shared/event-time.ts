/**
 * Times in events that lie in the future. A failure that "stops" tomorrow
 * (seconds multiplied as milliseconds, a hand-edited replay) would be deferred
 * hop after hop without end, never reaching the dead-letter queue; so such a
 * time is invalid input, parked with its field named before any AWS call.
 */
import { InvalidInputError } from './errors';

/**
 * How far ahead of this Lambda's clock an event time may lie: 5 minutes.
 *
 * AWS services and Lambda keep their clocks on the Amazon Time Sync Service,
 * so real skew is far below a second; 5 minutes (Kerberos' classic bound)
 * leaves room for any clock that drifted, and is still well below one
 * 15-minute deferral hop, so an impossible time is parked before a single
 * hop is spent on it.
 */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * Throws {@link InvalidInputError} naming `field` when `epochMs` lies more than
 * {@link MAX_FUTURE_SKEW_MS} after `now`; returns `epochMs` otherwise.
 *
 * @example
 * ```ts
 * rejectFutureTime(event.stopDate, Date.now(), 'detail.stopDate');
 * ```
 */
export function rejectFutureTime(epochMs: number, now: number, field: string): number {
  if (epochMs - now > MAX_FUTURE_SKEW_MS) {
    const date = new Date(epochMs);
    const at = Number.isNaN(date.getTime()) ? '' : ` (${date.toISOString()})`;
    throw new InvalidInputError(
      field,
      `lies ${describeAhead(epochMs - now)} in the future${at}: a time that already happened may be at most ${MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the clock (check its unit or the replayed event)`,
    );
  }
  return epochMs;
}

function describeAhead(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${Math.round(minutes)} minutes`;
  const hours = minutes / 60;
  if (hours < 48) return `${Math.round(hours)} hours`;
  return `${Math.round(hours / 24)} days`;
}
