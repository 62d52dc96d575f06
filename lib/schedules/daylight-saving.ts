/**
 * Which runs of a cron schedule fall into a daylight-saving change of its
 * time zone, and so do not run as written.
 *
 * EventBridge Scheduler (User Guide, "Schedule types in EventBridge
 * Scheduler", section "Daylight savings time on EventBridge Scheduler",
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#daylist-savings-time):
 * "When time shifts forward in the Spring, if a cron expression falls on a
 * non-existent date and time, your schedule invocation is skipped. When time
 * shifts backwards in the Fall, your schedule runs only once and does not
 * repeat its invocation." Rate expressions count fixed durations, and UTC and
 * zones without daylight saving have no changes.
 *
 * Hand-written: no library knows Scheduler's cron dialect. The zone's offset
 * changes come from the ICU data through `Intl.DateTimeFormat` (sampled every
 * few hours, each change found by bisection to the minute), then every local
 * minute in each skipped or repeated interval is matched against the
 * expression, day-of-month, month, day-of-week and year included. Run at
 * synth only: it loads ICU's zone data, which a handler's cold start must not.
 */
import {
  cronMatches,
  type LocalMinute,
  parseSchedulerCron,
  wallClockReader,
} from '../../lambda/shared/config/scheduler-cron';

const MINUTE_MS = 60_000;
/** Offset changes are looked for at this spacing; two changes within it would be missed (none exist). */
const SAMPLE_MS = 6 * 3_600_000;
/** A skipped or repeated interval longer than this (a date-line move) is scanned only this far. */
const MAX_INTERVAL_MINUTES = 24 * 60;

/** A run that a daylight-saving change skips (`gap`) or that falls into a repeated hour (`repeat`). */
export interface DaylightSavingConflict {
  /** `gap`: the local time does not exist, Scheduler skips the run. `repeat`: the local time occurs twice, Scheduler runs once. */
  readonly kind: 'gap' | 'repeat';
  /** The local date of the change, `YYYY-MM-DD`. */
  readonly date: string;
  /** The local wall-clock interval skipped or repeated, `HH:MM`, end exclusive. */
  readonly from: string;
  readonly to: string;
  /** The expression's local run times that fall into the interval, `HH:MM`. */
  readonly runTimes: readonly string[];
}

/** A change of a zone's UTC offset. */
interface OffsetChange {
  /** The first instant of the new offset, epoch ms. */
  readonly at: number;
  readonly offsetBeforeMinutes: number;
  readonly offsetAfterMinutes: number;
}

/**
 * The runs of `expression` in `timeZone` that fall into a daylight-saving gap
 * or repeat within `days` days from `from`. Rate and one-time expressions,
 * and zones without changes, have none.
 *
 * @param expression a valid Scheduler expression (validated by the config parser)
 * @param timeZone an IANA zone ICU knows
 * @example
 * ```ts
 * daylightSavingConflicts('cron(30 2 * * ? *)', 'Europe/Berlin', { from: new Date('2026-12-01T00:00:00Z') });
 * // [{ kind: 'gap', date: '2027-03-28', from: '02:00', to: '03:00', runTimes: ['02:30'] },
 * //  { kind: 'repeat', date: '2027-10-31', from: '02:00', to: '03:00', runTimes: ['02:30'] }]
 * ```
 */
export function daylightSavingConflicts(
  expression: string,
  timeZone: string,
  options: { readonly from: Date; readonly days?: number },
): DaylightSavingConflict[] {
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (!cron) return [];
  const parsed = parseSchedulerCron(cron[1].trim().split(/\s+/), 'expression');
  const start = options.from.getTime();
  const end = start + (options.days ?? 366) * 24 * 3_600_000;
  const conflicts: DaylightSavingConflict[] = [];
  for (const change of offsetChanges(timeZone, start, end)) {
    const shift = change.offsetAfterMinutes - change.offsetBeforeMinutes;
    // Local wall clock read as if UTC: the old offset's clock at the change instant.
    const wallAtChange = change.at + change.offsetBeforeMinutes * MINUTE_MS;
    const kind = shift > 0 ? 'gap' : 'repeat';
    const intervalStart = kind === 'gap' ? wallAtChange : wallAtChange + shift * MINUTE_MS;
    const minutes = Math.min(Math.abs(shift), MAX_INTERVAL_MINUTES);
    const runTimes: string[] = [];
    for (let i = 0; i < minutes; i++) {
      const wall = new Date(intervalStart + i * MINUTE_MS);
      if (cronMatches(parsed, localMinuteOf(wall))) runTimes.push(clock(wall));
    }
    if (runTimes.length > 0) {
      conflicts.push({
        kind,
        date: new Date(intervalStart).toISOString().slice(0, 10),
        from: clock(new Date(intervalStart)),
        to: clock(new Date(intervalStart + Math.abs(shift) * MINUTE_MS)),
        runTimes,
      });
    }
  }
  return conflicts;
}

/**
 * One line for a CDK warning: the schedule, each affected date, and what
 * Scheduler does on it.
 */
export function daylightSavingWarning(
  scheduleName: string,
  expression: string,
  timeZone: string,
  conflicts: readonly DaylightSavingConflict[],
): string {
  const nights = conflicts.map((c) => {
    const runs =
      c.runTimes.length > 3 ? `${c.runTimes.slice(0, 3).join(', ')}, …` : c.runTimes.join(', ');
    return c.kind === 'gap'
      ? `${c.date} ${runs} (spring-forward gap: ${c.from}-${c.to} does not exist in ${timeZone}, Scheduler skips ${c.runTimes.length === 1 ? 'that run' : `those ${c.runTimes.length} runs`})`
      : `${c.date} ${runs} (fall-back repeat: ${c.from}-${c.to} happens twice in ${timeZone}, Scheduler runs ${c.runTimes.length === 1 ? 'it' : 'each'} once, before the clocks go back)`;
  });
  return (
    `Schedule "${scheduleName}" (${expression} in ${timeZone}) meets daylight-saving changes: ${nights.join('; ')}. ` +
    'Move its time out of the changing hours, or use UTC. ' +
    'See https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#daylist-savings-time'
  );
}

/** Every change of the zone's UTC offset in [start, end). */
function offsetChanges(timeZone: string, start: number, end: number): OffsetChange[] {
  const offsetAt = offsetReader(timeZone);
  const changes: OffsetChange[] = [];
  let before = start - (start % MINUTE_MS);
  let offsetBefore = offsetAt(before);
  while (before < end) {
    const next = before + SAMPLE_MS;
    const offsetNext = offsetAt(next);
    if (offsetNext !== offsetBefore) {
      // Bisect to the minute: offsetAt(low) is the old offset, offsetAt(high) the new one.
      let low = before;
      let high = next;
      while (high - low > MINUTE_MS) {
        const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS;
        if (offsetAt(middle) === offsetBefore) low = middle;
        else high = middle;
      }
      changes.push({
        at: high,
        offsetBeforeMinutes: offsetBefore,
        offsetAfterMinutes: offsetAt(high),
      });
    }
    before = next;
    offsetBefore = offsetNext;
  }
  return changes;
}

/** The zone's UTC offset in minutes at an instant, from ICU's wall clock. */
function offsetReader(timeZone: string): (instant: number) => number {
  const wallClock = wallClockReader(timeZone);
  return (instant) => {
    const local = wallClock(instant);
    const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
    return Math.round((wall - (instant - (instant % MINUTE_MS))) / MINUTE_MS);
  };
}

function localMinuteOf(wall: Date): LocalMinute {
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
  };
}

function clock(wall: Date): string {
  return wall.toISOString().slice(11, 16);
}
