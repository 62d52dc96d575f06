/**
 * EventBridge Scheduler's cron expressions: each field checked against the
 * values and wildcards Scheduler allows, and a matcher for the local minutes
 * an expression names.
 *
 * Hand-written because no cron library implements Scheduler's dialect (a
 * mandatory year, `?`, `L`, `W`, `#`, no `/` in day-of-week). The rules are
 * the table of the Scheduler User Guide, "Schedule types in EventBridge
 * Scheduler", section "Cron-based schedules":
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
 *
 * | Field        | Values          | Wildcards     |
 * | ------------ | --------------- | ------------- |
 * | Minutes      | 0-59            | , - * /       |
 * | Hours        | 0-23            | , - * /       |
 * | Day-of-month | 1-31            | , - * ? / L W |
 * | Month        | 1-12 or JAN-DEC | , - * /       |
 * | Day-of-week  | 1-7 or SUN-SAT  | , - * ? L #   |
 * | Year         | 1970-2199       | , - * /       |
 *
 * `?` stands in exactly one of day-of-month and day-of-week; a `#` field holds
 * one expression only ("3#1,6#3" is not valid).
 */
import { ConfigError } from '../errors';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** Day-of-week 1 is Sunday. */
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names for min, min+1, ... (upper case; matched case-insensitively). */
  readonly names?: readonly string[];
  readonly step: boolean;
  /** A range may run past the end and wrap around (hours 22-2). */
  readonly wraps: boolean;
}

const MINUTES: FieldSpec = { label: 'minutes', min: 0, max: 59, step: true, wraps: true };
const HOURS: FieldSpec = { label: 'hours', min: 0, max: 23, step: true, wraps: true };
const DAY_OF_MONTH: FieldSpec = { label: 'day-of-month', min: 1, max: 31, step: true, wraps: true };
const MONTH: FieldSpec = {
  label: 'month',
  min: 1,
  max: 12,
  names: MONTHS,
  step: true,
  wraps: true,
};
const DAY_OF_WEEK: FieldSpec = {
  label: 'day-of-week',
  min: 1,
  max: 7,
  names: WEEKDAYS,
  step: false,
  wraps: true,
};
const YEAR: FieldSpec = { label: 'year', min: 1970, max: 2199, step: true, wraps: false };

/** Which days of a month a day-of-month field names. */
export type DayOfMonthRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'days'; readonly days: ReadonlySet<number> }
  | { readonly kind: 'last' }
  | { readonly kind: 'nearestWeekday'; readonly day: number };

/** Which days of a month a day-of-week field names (1 = Sunday). */
export type DayOfWeekRule =
  | { readonly kind: 'any' }
  | { readonly kind: 'weekdays'; readonly weekdays: ReadonlySet<number> }
  | { readonly kind: 'lastOfMonth'; readonly weekday: number }
  | { readonly kind: 'nth'; readonly weekday: number; readonly nth: number };

/** A parsed Scheduler cron expression. */
export interface SchedulerCron {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly dayOfMonth: DayOfMonthRule;
  readonly months: ReadonlySet<number>;
  readonly dayOfWeek: DayOfWeekRule;
  readonly years: ReadonlySet<number>;
}

/** A local wall-clock minute; `month` 1-12. */
export interface LocalMinute {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

/**
 * Reads a time zone's wall clock: the local minute an instant falls in, from
 * ICU through `Intl.DateTimeFormat` (the zone data Scheduler's own behaviour
 * is checked against). One formatter per zone, reused for every instant.
 *
 * @example
 * ```ts
 * const wallClock = wallClockReader('Europe/Zurich');
 * wallClock(Date.parse('2026-11-30T01:00:00Z')); // { year: 2026, month: 11, day: 30, hour: 2, minute: 0 }
 * ```
 */
export function wallClockReader(timeZone: string): (instant: number) => LocalMinute {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  return (instant) => {
    const part = Object.fromEntries(
      format.formatToParts(new Date(instant)).map((p) => [p.type, Number(p.value)]),
    );
    return {
      year: part.year,
      month: part.month,
      day: part.day,
      // Some ICU versions write midnight as 24 even with h23.
      hour: part.hour === 24 ? 0 : part.hour,
      minute: part.minute,
    };
  };
}

/**
 * Parses the six fields of `cron(...)`, refusing any value or wildcard
 * Scheduler refuses, with a one-line {@link ConfigError} naming `field`.
 *
 * @example
 * ```ts
 * const cron = parseSchedulerCron(['0', '2', '?', '*', 'MON-FRI', '*'], 'appflow.schedules[0].expression');
 * cronMatches(cron, { year: 2027, month: 3, day: 29, hour: 2, minute: 0 }); // true (a Monday)
 * ```
 */
export function parseSchedulerCron(fields: readonly string[], field: string): SchedulerCron {
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields;
  const expression = `cron(${fields.join(' ')})`;
  const refuse = (problem: string): never => {
    throw new ConfigError(field, `${problem}, in ${JSON.stringify(expression)}`);
  };
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    refuse('must have "?" in exactly one of day-of-month and day-of-week');
  }
  return {
    minutes: valueSet(minutes, MINUTES, refuse),
    hours: valueSet(hours, HOURS, refuse),
    dayOfMonth: dayOfMonthRule(dayOfMonth, refuse),
    months: valueSet(month, MONTH, refuse),
    dayOfWeek: dayOfWeekRule(dayOfWeek, refuse),
    years: valueSet(year, YEAR, refuse),
  };
}

/** Whether the expression names this local minute. */
export function cronMatches(cron: SchedulerCron, at: LocalMinute): boolean {
  return (
    cron.minutes.has(at.minute) &&
    cron.hours.has(at.hour) &&
    cron.months.has(at.month) &&
    cron.years.has(at.year) &&
    dayOfMonthMatches(cron.dayOfMonth, at) &&
    dayOfWeekMatches(cron.dayOfWeek, at)
  );
}

type Refuse = (problem: string) => never;

function fieldValue(token: string, spec: FieldSpec, refuse: Refuse): number {
  const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return spec.min + named;
  if (!/^\d+$/.test(token)) {
    const allowed = spec.names
      ? `${spec.min}-${spec.max} or ${spec.names[0]}-${spec.names[spec.names.length - 1]}`
      : `${spec.min}-${spec.max}`;
    refuse(`has ${spec.label} ${JSON.stringify(token)}: allowed are ${allowed}`);
  }
  const value = Number(token);
  if (value < spec.min || value > spec.max) {
    refuse(`has ${spec.label} ${token} outside ${spec.min}-${spec.max}`);
  }
  return value;
}

/** A field of values, ranges, increments and `*`, joined by commas. */
function valueSet(text: string, spec: FieldSpec, refuse: Refuse): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') refuse(`has an empty ${spec.label} list item`);
    const [base, stepText, ...rest] = item.split('/');
    if (rest.length > 0) refuse(`has ${spec.label} ${JSON.stringify(item)} with two "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!spec.step) refuse(`has "/" in ${spec.label}, which Scheduler does not allow there`);
      const span = spec.max - spec.min + 1;
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1 || Number(stepText) > span) {
        refuse(`has ${spec.label} increment ${JSON.stringify(stepText)}: allowed are 1-${span}`);
      }
      step = Number(stepText);
    }
    let first: number;
    let last: number;
    if (base === '*') {
      first = spec.min;
      last = spec.max;
    } else {
      const bounds = base.split('-');
      if (bounds.length > 2) refuse(`has ${spec.label} range ${JSON.stringify(base)}`);
      first = fieldValue(bounds[0], spec, refuse);
      // `5/15` runs from 5 to the field's end; `5` alone is one value.
      last =
        bounds.length === 2
          ? fieldValue(bounds[1], spec, refuse)
          : stepText !== undefined
            ? spec.max
            : first;
      if (last < first && !spec.wraps) {
        refuse(`has ${spec.label} range ${JSON.stringify(base)} that runs backwards`);
      }
    }
    const length = (last - first + (spec.max - spec.min + 1)) % (spec.max - spec.min + 1);
    for (let offset = 0; offset <= length; offset += step) {
      values.add(spec.min + ((first - spec.min + offset) % (spec.max - spec.min + 1)));
    }
  }
  return values;
}

function dayOfMonthRule(text: string, refuse: Refuse): DayOfMonthRule {
  if (text === '?') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  const weekday = /^(\d+)W$/.exec(text);
  if (weekday) return { kind: 'nearestWeekday', day: fieldValue(weekday[1], DAY_OF_MONTH, refuse) };
  if (/[LW?#]/i.test(text)) {
    refuse(
      `has day-of-month ${JSON.stringify(text)}: "L" and "nW" stand alone, "?" too, and "#" belongs to day-of-week`,
    );
  }
  return { kind: 'days', days: valueSet(text, DAY_OF_MONTH, refuse) };
}

function dayOfWeekRule(text: string, refuse: Refuse): DayOfWeekRule {
  if (text === '?') return { kind: 'any' };
  // `L` alone is the last day of the week, Saturday.
  if (text === 'L') return { kind: 'weekdays', weekdays: new Set([7]) };
  const last = /^(\w+?)L$/i.exec(text);
  if (last) return { kind: 'lastOfMonth', weekday: fieldValue(last[1], DAY_OF_WEEK, refuse) };
  const nth = /^(\w+)#(\d+)$/.exec(text);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) refuse(`has day-of-week ${JSON.stringify(text)}: "#" counts 1-5`);
    return { kind: 'nth', weekday: fieldValue(nth[1], DAY_OF_WEEK, refuse), nth: n };
  }
  if (text.includes('#')) {
    refuse(
      `has day-of-week ${JSON.stringify(text)}: a "#" field holds one expression, such as 3#2`,
    );
  }
  if (text.includes('?')) refuse(`has day-of-week ${JSON.stringify(text)}: "?" stands alone`);
  return { kind: 'weekdays', weekdays: valueSet(text, DAY_OF_WEEK, refuse) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 = Sunday, as in Scheduler's day-of-week. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function dayOfMonthMatches(rule: DayOfMonthRule, at: LocalMinute): boolean {
  switch (rule.kind) {
    case 'any':
      return true;
    case 'days':
      return rule.days.has(at.day);
    case 'last':
      return at.day === daysInMonth(at.year, at.month);
    case 'nearestWeekday': {
      // The weekday nearest the day, never leaving the month (Quartz's `W`).
      const length = daysInMonth(at.year, at.month);
      let day = Math.min(rule.day, length);
      const weekday = weekdayOf(at.year, at.month, day);
      if (weekday === 7) day = day === 1 ? day + 2 : day - 1;
      else if (weekday === 1) day = day === length ? day - 2 : day + 1;
      return at.day === day;
    }
  }
}

function dayOfWeekMatches(rule: DayOfWeekRule, at: LocalMinute): boolean {
  if (rule.kind === 'any') return true;
  const weekday = weekdayOf(at.year, at.month, at.day);
  switch (rule.kind) {
    case 'weekdays':
      return rule.weekdays.has(weekday);
    case 'lastOfMonth':
      return weekday === rule.weekday && at.day + 7 > daysInMonth(at.year, at.month);
    case 'nth':
      return weekday === rule.weekday && Math.ceil(at.day / 7) === rule.nth;
  }
}
