/**
 * The `notices` section of the Autoheal config: how give-up, skip and breaker
 * notices (redrive and AppFlow alike) are sent in a storm: the first few of
 * each (subject, kind, reason) at once, the rest counted into one digest per
 * window.
 *
 * This module is free of zod, for the handlers: the defaults. The schema, its
 * type and `parseNoticesConfig` are in `notices-schema.ts`.
 */
export type { NoticesConfig } from './notices-schema';

/** The longest digest window: a day. */
export const MAX_DIGEST_WINDOW_MINUTES = 1440;

/**
 * Most example execution ARNs (or flow run ids) one digest lists: an SNS
 * message holds 256 KB, a digest item in the state table stays under 40 KB
 * (100 ARNs of at most 300 characters), and more examples than this say
 * nothing a metric does not.
 */
export const MAX_DIGEST_EXAMPLES = 100;

/** The notices unless the config says otherwise. */
export const DEFAULT_NOTICES = {
  digestWindowMinutes: 15,
  immediateNotices: 1,
  digestExamples: 10,
};

/** True when notices are digested (a window of 0 sends one notice per failure, as before digests). */
export function digestsEnabled(notices: { readonly digestWindowMinutes: number }): boolean {
  return notices.digestWindowMinutes > 0;
}
