/**
 * The CLI's time options, one reading for every command: a duration
 * (`90s`, `30m`, `6h`, `2d`, `1w`, `1h30m`) or, where a point in time is
 * meant (`--since`, `--until`, `--live-since`), a duration ago or an ISO time.
 *
 * Hand-written: one regular expression and `Date.parse` cover both forms; a
 * library (ms, parse-duration, a date library) would add weight to the CLI
 * bundle for the same, and would read `1h 30m` or a zoneless time differently
 * from what the help says.
 */
import { CliError } from './cli-error';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART = /(\d+(?:\.\d+)?)([smhdw])/g;
const DURATION_FORMS = '90s, 30m, 6h, 2d, 1w, 1h30m';
const ISO_FORM = '2026-03-01T10:00:00Z';

/** Milliseconds of a duration, or undefined when `value` is not one. */
function durationMs(value: string): number | undefined {
  const parts = [...value.matchAll(PART)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit], 0);
}

/**
 * A duration in milliseconds.
 *
 * @param option the option's name, for the error
 * @throws {CliError} naming the option when `value` is not a duration
 * @example
 * ```ts
 * parseDuration('1h30m', '--older-than'); // 5_400_000
 * ```
 */
export function parseDuration(value: string, option: string): number {
  const ms = durationMs(value.trim());
  if (ms === undefined) {
    throw new CliError(`${option} ${value}: give a duration (${DURATION_FORMS})`);
  }
  return ms;
}

/**
 * Epoch milliseconds of a duration before `now`, or of an ISO time: a date
 * (`2026-03-01`, midnight UTC) or a date and time with its zone (a time
 * without a zone would depend on the operator's machine, so it is refused).
 *
 * @param option the option's name, for the error
 * @throws {CliError} naming the option when `value` is neither
 * @example
 * ```ts
 * parseTimeAgo('6h', Date.parse('2026-03-02T12:00:00Z'), '--since'); // 2026-03-02T06:00:00Z
 * ```
 */
export function parseTimeAgo(value: string, now: number, option: string): number {
  const text = value.trim();
  const ms = durationMs(text);
  if (ms !== undefined) return now - ms;
  if (/^\d{4}-\d{2}-\d{2}(T.*(Z|[+-]\d{2}:?\d{2}))?$/.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return at;
  }
  throw new CliError(
    `${option} ${value}: give a duration ago (${DURATION_FORMS}) or an ISO time with a zone (${ISO_FORM})`,
  );
}
