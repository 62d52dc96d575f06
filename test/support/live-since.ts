/**
 * Live-since documents for the suites: by default every scoped state machine
 * has been under live healing since long before any failure a test makes, so
 * the before-live-healing rule changes nothing a suite does not ask it to.
 */
import {
  advanceClock,
  clockConfigOf,
  type LiveSinceDocument,
  liveSinceDocument,
} from '../../lambda/redrive/live-healing';
import type { RedriveConfig } from '../../lambda/shared/autoheal-config';

/** Epoch milliseconds of "long ago": 1970-01-01. */
export const LONG_AGO = 0;

/**
 * The document the clock returns for `config` when it was first deployed at
 * `since` (by default {@link LONG_AGO}).
 */
export function liveSinceFor(config: RedriveConfig, since = LONG_AGO): LiveSinceDocument {
  const clockConfig = clockConfigOf(config);
  return liveSinceDocument(advanceClock(undefined, clockConfig, since), clockConfig);
}
