/**
 * The zod schema of the `notices` section. Synth side only; the defaults are
 * in `notices-config.ts`.
 */
import type { z } from 'zod';
import type { Immutable } from './common';
import { parseWith } from './config-issues';
import { DEFAULT_NOTICES, MAX_DIGEST_EXAMPLES, MAX_DIGEST_WINDOW_MINUTES } from './notices-config';
import { integer, section } from './zod-rules';

/** How notices are sent in a storm: at once below a threshold, then one digest per window. */
export const noticesSchema = section({
  digestWindowMinutes: integer(0, MAX_DIGEST_WINDOW_MINUTES)
    .default(DEFAULT_NOTICES.digestWindowMinutes)
    .describe(
      `Minutes of one digest window (0-${MAX_DIGEST_WINDOW_MINUTES}): within it, the notices of one (state machine or flow, kind, reason) beyond immediateNotices are counted and sent as one digest when the window ends. 0 turns digests off: one notice per failure.`,
    ),
  immediateNotices: integer(1, 1000)
    .default(DEFAULT_NOTICES.immediateNotices)
    .describe(
      'Notices of one (state machine or flow, kind, reason) sent at once in each digest window (1-1000); the rest go into the digest.',
    ),
  digestExamples: integer(0, MAX_DIGEST_EXAMPLES)
    .default(DEFAULT_NOTICES.digestExamples)
    .describe(
      `Example execution ARNs or flow run ids a digest lists (0-${MAX_DIGEST_EXAMPLES}); every notice is counted whatever this is.`,
    ),
})
  .prefault({})
  .describe(
    'How give-up, skip and breaker notices (redrive and AppFlow) are sent in a storm: the first immediateNotices of each (subject, kind, reason) at once, the rest counted into one digest per window.',
  );

/** How notices are sent, with every value filled in. */
export type NoticesConfig = Immutable<z.output<typeof noticesSchema>>;

/**
 * Validates the `notices` section and fills in its defaults.
 *
 * @throws {ConfigError} naming the bad field, e.g. `notices.digestWindowMinutes`
 * @example
 * ```ts
 * parseNoticesConfig({ digestWindowMinutes: 5 }).digestExamples; // 10
 * ```
 */
export function parseNoticesConfig(value: unknown, field = 'notices'): NoticesConfig {
  return parseWith(noticesSchema, value, field);
}
