/**
 * The zod schema of the `appflow` section, declared once: its types, its
 * defaults, its JSON Schema and its one-line problems all come from here.
 * Synth side only (zod stays out of the handler bundles); the constants and
 * pure helpers are in `appflow-config.ts`.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';
import {
  DEFAULT_FLOW_HEALING,
  DEFAULT_MAX_CONCURRENT_STARTS,
  FLOW_NAME,
  MAX_REACTIVATION_COOLDOWN_MINUTES,
  SCHEDULE_NAME,
} from './appflow-config';
import type { Immutable } from './common';
import { delaySchema, processingSchema } from './common-schema';
import { parseWith } from './config-issues';
import { parseSchedulerCron } from './scheduler-cron';
import { cleanAt, flag, inOrder, integer, list, section, text } from './zod-rules';

const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
/** The shape of an IANA time zone name: `UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`. */
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

const flowName = () =>
  text({
    maxLength: 256,
    pattern: FLOW_NAME,
    patternHint: 'an AppFlow flow name (letters, digits, _ ! @ # . -; no spaces)',
  });

/**
 * The problem with a Scheduler expression, or undefined. Hand-written: no
 * cron library implements Scheduler's dialect (see `scheduler-cron.ts`).
 */
function expressionProblem(expression: string): string | undefined {
  if (expression.startsWith('rate(')) {
    const rate = RATE.exec(expression);
    if (!rate || Number(rate[1]) < 1 || (Number(rate[1]) === 1) !== !rate[2].endsWith('s')) {
      return `must be rate(N unit) with a positive N and unit minute(s), hour(s) or day(s) (singular for 1), got ${JSON.stringify(expression)}`;
    }
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  const fields = cron ? cron[1].trim().split(/\s+/) : [];
  if (fields.length !== 6 || !fields.every((f) => CRON_FIELD.test(f))) {
    return `must be cron(minutes hours day-of-month month day-of-week year) with 6 fields, or rate(N unit), got ${JSON.stringify(expression)}`;
  }
  try {
    // Each field's range, names and wildcards, as Scheduler checks them at deploy.
    parseSchedulerCron(fields, 'expression');
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.problem;
    throw error;
  }
}

const expressionSchema = text({ maxLength: 256 })
  .superRefine((expression, ctx) => {
    const problem = expressionProblem(expression);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'EventBridge Scheduler cron(min hour day-of-month month day-of-week year) or rate(N unit).',
  );

/** How {@link parseAppflowConfig} checks what it cannot check by shape alone. */
export interface AppflowConfigParseOptions {
  /**
   * Resolve each schedule's time zone against the ICU time zone data, so a
   * zone that does not exist is refused and a zone written in the wrong case
   * (`america/new_york`, which Scheduler refuses at deploy) is written with
   * its canonical name (`America/New_York`). Off, a zone is checked by its
   * shape only and kept as written.
   * @default true
   */
  readonly resolveTimeZones?: boolean;
}

/**
 * The canonical spelling of a time zone ICU knows, or undefined.
 *
 * Scheduler reads zones from the IANA database and, unlike ICU, matches their
 * names case-sensitively. A name in ICU's list of zones (or `UTC`) is matched
 * case-insensitively and written as listed. Any other name ICU accepts is an
 * alias (`US/Eastern`, `Etc/UTC`, and IANA names CLDR keeps as aliases, such
 * as `Asia/Kolkata`): it is written as ICU's canonical name of the same zone
 * (`America/New_York`, `UTC`, `Asia/Calcutta`), which is an IANA name with the
 * same rules.
 */
function canonicalTimeZone(timeZone: string): string | undefined {
  const listed = [...Intl.supportedValuesOf('timeZone'), 'UTC'].find(
    (name) => name.toLowerCase() === timeZone.toLowerCase(),
  );
  if (listed) return listed;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function timeZoneSchema(resolve: boolean) {
  const refused = (timeZone: string) =>
    `must be an IANA time zone such as "Europe/Berlin" or "UTC", got ${JSON.stringify(timeZone)}`;
  const shape = text({ maxLength: 50 }).regex(TIME_ZONE_NAME, {
    error: (issue) => refused(issue.input as string),
  });
  const zone = resolve
    ? shape.transform((timeZone, ctx) => {
        const canonical = canonicalTimeZone(timeZone);
        if (canonical) return canonical;
        ctx.addIssue({ code: 'custom', message: refused(timeZone) });
        return z.NEVER;
      })
    : shape;
  return zone
    .prefault('UTC')
    .describe('IANA time zone the cron expression is read in, e.g. Europe/Berlin.');
}

const SCHEDULE_KEYS = ['name', 'expression', 'timeZone', 'flexibleWindowMinutes', 'flows'] as const;

function scheduleSchema(resolveTimeZones: boolean) {
  return section(
    {
      // Listed first: its problems are reported first, as before.
      flows: list(flowName())
        .superRefine(
          (flows, ctx) => {
            if (flows.length === 0) {
              ctx.addIssue({ code: 'custom', message: 'must list at least one flow name' });
              return;
            }
            const duplicate = flows.find((flow, i) => flows.indexOf(flow) !== i);
            if (duplicate) ctx.addIssue({ code: 'custom', message: `lists ${duplicate} twice` });
          },
          { when: cleanAt() },
        )
        .describe('OnDemand flows started at each tick, each independently.'),
      name: text({
        pattern: SCHEDULE_NAME,
        patternHint: 'a schedule name of 1-48 letters, digits, -, _ or .',
      }).describe('Unique name of the schedule (1-48 letters, digits, -, _, .).'),
      expression: expressionSchema,
      timeZone: timeZoneSchema(resolveTimeZones),
      flexibleWindowMinutes: integer(0, 1440)
        .default(0)
        .describe(
          'Minutes within which Scheduler may start the tick, to spread load; 0 runs it on time.',
        ),
    },
    SCHEDULE_KEYS,
  )
    .transform(inOrder(SCHEDULE_KEYS))
    .describe('One schedule that starts OnDemand flows.');
}

const healingSchema = section({
  rerunFailedRuns: flag()
    .default(DEFAULT_FLOW_HEALING.rerunFailedRuns)
    .describe('Re-run an OnDemand flow whose run failed.'),
  maxReruns: integer(0, 10)
    .default(DEFAULT_FLOW_HEALING.maxReruns)
    .describe('Re-runs per original failed run (0-10); then Autoheal gives up and sends a notice.'),
  delay: delaySchema(DEFAULT_FLOW_HEALING.delay),
  reactivateDeactivated: flag()
    .default(DEFAULT_FLOW_HEALING.reactivateDeactivated)
    .describe('Re-activate a scheduled flow that AppFlow deactivated after repeated failures.'),
  reactivationCooldownMinutes: integer(0, MAX_REACTIVATION_COOLDOWN_MINUTES)
    .default(DEFAULT_FLOW_HEALING.reactivationCooldownMinutes)
    .describe('Minutes to wait after a deactivation before re-activating.'),
  maxReactivations: integer(0, 100)
    .default(DEFAULT_FLOW_HEALING.maxReactivations)
    .describe(
      'Re-activations of one flow within the window; beyond, Autoheal gives up and sends a notice.',
    ),
  reactivationWindowHours: integer(1, 720)
    .default(DEFAULT_FLOW_HEALING.reactivationWindowHours)
    .describe('The window re-activations are counted in, in hours.'),
})
  .prefault({})
  .describe('How failed runs and deactivated flows are healed.');

/** The `appflow` schema; `resolveTimeZones` as in {@link AppflowConfigParseOptions}. */
export function appflowSchemaWith(resolveTimeZones: boolean) {
  return section({
    schedules: list(scheduleSchema(resolveTimeZones))
      .superRefine((schedules, ctx) => {
        const names = schedules.map((s) => s?.name).filter((name) => typeof name === 'string');
        const duplicate = names.find((name, i) => names.indexOf(name) !== i);
        if (duplicate)
          ctx.addIssue({ code: 'custom', message: `has two schedules named ${duplicate}` });
      })
      .default(() => [])
      .describe('Schedules that start OnDemand flows.'),
    healedFlows: list(flowName())
      .default(() => [])
      .describe(
        'Flows healed besides the scheduled ones, e.g. flows AppFlow itself runs on a schedule.',
      ),
    healing: healingSchema,
    maxConcurrentStarts: integer(1, 50)
      .default(DEFAULT_MAX_CONCURRENT_STARTS)
      .describe('Flows of one tick started at the same time (1-50).'),
    processing: processingSchema,
  })
    .superRefine(
      (appflow, ctx) => {
        if (appflow.schedules.length === 0 && appflow.healedFlows.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['schedules'],
            message: 'is empty: list at least one schedule, or a flow in healedFlows',
          });
        }
      },
      { when: cleanAt(['schedules'], ['healedFlows']) },
    )
    .describe('Scheduled AppFlow runs and their healing.');
}

/** Scheduled AppFlow runs and their healing, time zones resolved. */
export const appflowSchema = appflowSchemaWith(true);
const appflowShapeOnlySchema = appflowSchemaWith(false);

/** Scheduled AppFlow runs and their healing, with every default filled in. */
export type AppflowConfig = Immutable<z.output<typeof appflowSchema>>;
/** One schedule that starts OnDemand flows. */
export type FlowSchedule = AppflowConfig['schedules'][number];
/** How failed runs and deactivated flows are healed. */
export type FlowHealingPolicy = AppflowConfig['healing'];

/**
 * Validates the `appflow` section and fills in every default.
 *
 * @throws {ConfigError} naming the bad field and what it allows; a
 *   {@link ConfigErrors} listing every problem when there are several
 * @example
 * ```ts
 * const appflow = parseAppflowConfig({
 *   schedules: [{ name: 'nightly', expression: 'cron(0 2 * * ? *)', timeZone: 'Europe/Berlin', flows: ['crm-export'] }],
 * });
 * appflow.healing.maxReruns; // 2
 * ```
 */
export function parseAppflowConfig(
  value: unknown,
  field = 'appflow',
  options: AppflowConfigParseOptions = {},
): AppflowConfig {
  const schema = (options.resolveTimeZones ?? true) ? appflowSchema : appflowShapeOnlySchema;
  return parseWith(schema, value, field);
}
