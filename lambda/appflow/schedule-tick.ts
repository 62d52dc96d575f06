/**
 * Parses and validates the input EventBridge Scheduler passes to the flow
 * starter on every tick. Nothing here calls AWS: a bad tick is rejected with
 * an {@link InvalidInputError} naming the field before any call.
 */

import { type AppflowHandlerConfig, FLOW_NAME } from '../shared/config/appflow-config';
import type { ScheduleTickInput } from '../shared/contract';
import { InvalidInputError } from '../shared/errors';
import { describeValue, FieldChecker } from '../shared/fields';

const check = new FieldChecker((field, problem) => new InvalidInputError(field, problem));

/** Longest `scheduledTime` accepted; Scheduler's `2026-03-02T10:00:00Z` has 20 characters. */
export const MAX_SCHEDULED_TIME_LENGTH = 64;

/** ISO-8601 date and time with a zone designator (without one, the instant would depend on the machine). */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** True when year-month-day is a real calendar date (Date.parse accepts 2026-02-30). */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

function parseScheduledTime(value: unknown): string {
  const text = check.string(value, 'scheduledTime', { maxLength: MAX_SCHEDULED_TIME_LENGTH });
  const parts = ISO_DATE_TIME.exec(text);
  if (
    !parts ||
    Number.isNaN(Date.parse(text)) ||
    !isCalendarDate(Number(parts[1]), Number(parts[2]), Number(parts[3]))
  ) {
    throw new InvalidInputError(
      'scheduledTime',
      `must be an ISO-8601 date and time with a zone, such as "2026-03-02T10:00:00Z", got ${describeValue(text)}`,
    );
  }
  return text;
}

/**
 * Parses one tick of a configured schedule.
 *
 * @throws {InvalidInputError} naming the first bad field: `event`, `schedule`,
 *   `scheduledTime`, `flows` or `flows[i]`
 * @example
 * ```ts
 * const tick = parseScheduleTick(
 *   { schedule: 'nightly', scheduledTime: '2026-03-02T02:00:00Z', flows: ['crm-export'] },
 *   config,
 * );
 * ```
 */
export function parseScheduleTick(event: unknown, config: AppflowHandlerConfig): ScheduleTickInput {
  const raw = check.object(event, 'event');
  const names = config.schedules.map((s) => s.name);
  const scheduleName = check.string(raw.schedule, 'schedule', { maxLength: 256 });
  const schedule = config.schedules.find((s) => s.name === scheduleName);
  if (!schedule) {
    throw new InvalidInputError(
      'schedule',
      `must be a configured schedule (${names.length > 0 ? names.join(', ') : 'none is configured'}), got ${describeValue(scheduleName)}`,
    );
  }
  const scheduledTime = parseScheduledTime(raw.scheduledTime);
  if (!Array.isArray(raw.flows) || raw.flows.length === 0) {
    throw new InvalidInputError(
      'flows',
      `must be a non-empty array of flow names, got ${describeValue(raw.flows)}`,
    );
  }
  const flows = check.array(raw.flows, 'flows', (value, field) => {
    const flowName = check.string(value, field, {
      maxLength: 256,
      pattern: FLOW_NAME,
      patternHint: 'an AppFlow flow name (letters, digits, _ ! @ # . -; no spaces)',
    });
    if (!schedule.flows.includes(flowName)) {
      throw new InvalidInputError(
        field,
        `must be one of the flows of schedule ${schedule.name} (${schedule.flows.join(', ')}), got ${describeValue(flowName)}`,
      );
    }
    return flowName;
  });
  for (const [i, flowName] of flows.entries()) {
    const first = flows.indexOf(flowName);
    if (first !== i) {
      throw new InvalidInputError(
        `flows[${i}]`,
        `repeats flows[${first}] (${flowName}); list each flow once`,
      );
    }
  }
  return { schedule: schedule.name, scheduledTime, flows };
}
