/**
 * Time options (`--since 24h`, `--since 2026-03-02T10:00Z`): a duration ago
 * or an ISO time. Hand-written: `ms` is only a transitive dependency here,
 * and four units in one regular expression are simpler than adding one.
 */
import { CliError } from '../cli-error';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Epoch ms of a duration ago (`90s`, `15m`, `24h`, `7d`) or of an ISO time.
 *
 * @param option the option's name, for the error
 * @throws {CliError} naming the option when the value is neither
 * @example
 * ```ts
 * parseTime('24h', Date.parse('2026-03-02T10:00:00Z'), '--since'); // 2026-03-01T10:00:00Z
 * ```
 */
export function parseTime(value: string, now: number, option: string): number {
  const duration = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]];
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new CliError(
      `${option} ${value} is neither a duration (90s, 15m, 24h, 7d) nor an ISO time (2026-03-02T10:00:00Z)`,
    );
  }
  return at;
}
