/**
 * The `appflow` section of the Autoheal config: which AppFlow flows run on
 * which schedule, and how failed runs and deactivated flows are healed.
 */
import { ConfigError } from '../errors';
import {
  ConfigProblems,
  check,
  DEFAULT_PROCESSING,
  type DelayPolicy,
  type ProcessingOptions,
  parseDelay,
  parseProcessing,
  validateDelay,
} from './common';
import { parseSchedulerCron } from './scheduler-cron';

/** AppFlow's flow name pattern (no spaces), at most 256 characters. */
export const FLOW_NAME = /^[a-zA-Z0-9][\w!@#.-]+$/;
/** EventBridge Scheduler schedule names: letters, digits, `-`, `_`, `.`; Autoheal prefixes them. */
export const SCHEDULE_NAME = /^[0-9a-zA-Z_.-]{1,48}$/;
const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/** One schedule that starts OnDemand flows. */
export interface FlowSchedule {
  /** Unique name of the schedule (1-48 letters, digits, `-`, `_`, `.`). */
  readonly name: string;
  /** EventBridge Scheduler `cron(min hour day-of-month month day-of-week year)` or `rate(N unit)`. */
  readonly expression: string;
  /**
   * IANA time zone the cron expression is read in.
   * @default 'UTC'
   */
  readonly timeZone: string;
  /**
   * Minutes within which Scheduler may start the tick, to spread load; 0 runs it on time.
   * @default 0
   */
  readonly flexibleWindowMinutes: number;
  /** OnDemand flows started at each tick, each independently. */
  readonly flows: readonly string[];
}

/** How failed runs and deactivated flows are healed. */
export interface FlowHealingPolicy {
  /**
   * Re-run an OnDemand flow whose run failed.
   * @default true
   */
  readonly rerunFailedRuns: boolean;
  /**
   * Re-runs per original failed run; then Autoheal gives up and sends a notice.
   * @default 2
   */
  readonly maxReruns: number;
  /**
   * Delay before each re-run, counted from the end of the failed run (same engine as redrive).
   * @default { baseSeconds: 300, factor: 2, capSeconds: 3600, jitterRatio: 0.2 }
   */
  readonly delay: DelayPolicy;
  /**
   * Re-activate a scheduled flow that AppFlow deactivated after repeated failures.
   * @default true
   */
  readonly reactivateDeactivated: boolean;
  /**
   * Minutes to wait after a deactivation before re-activating.
   * @default 30
   */
  readonly reactivationCooldownMinutes: number;
  /**
   * Re-activations of one flow within the window; beyond, Autoheal gives up and sends a notice.
   * @default 3
   */
  readonly maxReactivations: number;
  /**
   * The window re-activations are counted in, in hours.
   * @default 24
   */
  readonly reactivationWindowHours: number;
}

/** Scheduled AppFlow runs and their healing. */
export interface AppflowConfig {
  /**
   * @default []
   */
  readonly schedules: readonly FlowSchedule[];
  /**
   * Flows healed besides the scheduled ones, e.g. flows AppFlow itself runs on a schedule.
   * @default []
   */
  readonly healedFlows: readonly string[];
  /** @default see {@link FlowHealingPolicy} */
  readonly healing: FlowHealingPolicy;
  /**
   * Flows of one tick started at the same time.
   * @default 5
   */
  readonly maxConcurrentStarts: number;
  /** The healer's event buffer. @default see {@link ProcessingOptions} */
  readonly processing: ProcessingOptions;
}

/** The longest re-activation cool-down: 24 hours. */
export const MAX_REACTIVATION_COOLDOWN_MINUTES = 1440;

export const DEFAULT_FLOW_HEALING: FlowHealingPolicy = {
  rerunFailedRuns: true,
  maxReruns: 2,
  delay: { baseSeconds: 300, factor: 2, capSeconds: 3600, jitterRatio: 0.2 },
  reactivateDeactivated: true,
  reactivationCooldownMinutes: 30,
  maxReactivations: 3,
  reactivationWindowHours: 24,
};

const flowName = (value: unknown, field: string): string =>
  check.string(value, field, {
    maxLength: 256,
    pattern: FLOW_NAME,
    patternHint: 'an AppFlow flow name (letters, digits, _ ! @ # . -; no spaces)',
  });

function parseExpression(value: unknown, field: string): string {
  const expression = check.string(value, field, { maxLength: 256 });
  if (expression.startsWith('rate(')) {
    const rate = RATE.exec(expression);
    if (!rate || Number(rate[1]) < 1 || (Number(rate[1]) === 1) !== !rate[2].endsWith('s')) {
      throw new ConfigError(
        field,
        `must be rate(N unit) with a positive N and unit minute(s), hour(s) or day(s) (singular for 1), got ${JSON.stringify(expression)}`,
      );
    }
    return expression;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  const fields = cron ? cron[1].trim().split(/\s+/) : [];
  if (fields.length !== 6 || !fields.every((f) => CRON_FIELD.test(f))) {
    throw new ConfigError(
      field,
      `must be cron(minutes hours day-of-month month day-of-week year) with 6 fields, or rate(N unit), got ${JSON.stringify(expression)}`,
    );
  }
  // Each field's range, names and wildcards, as Scheduler checks them at deploy.
  parseSchedulerCron(fields, field);
  return expression;
}

/** The shape of an IANA time zone name: `UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`. */
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** How {@link parseAppflowConfig} checks what it cannot check by shape alone. */
export interface AppflowConfigParseOptions {
  /**
   * Resolve each schedule's time zone against the ICU time zone data, so a
   * zone that does not exist is refused and a zone written in the wrong case
   * (`america/new_york`, which Scheduler refuses at deploy) is written with
   * its canonical name (`America/New_York`). Off, a zone is checked by its
   * shape only and kept as written.
   * Handlers turn it off: the app resolved every zone at synth and hands them
   * the canonical names, handlers never use the zone, and the first
   * `Intl.DateTimeFormat` costs about 11 ms of cold start loading ICU data.
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

function parseTimeZone(value: unknown, field: string, resolve: boolean): string {
  const timeZone = check.string(value, field, { maxLength: 50 });
  const refuse = (): never => {
    throw new ConfigError(
      field,
      `must be an IANA time zone such as "Europe/Berlin" or "UTC", got ${JSON.stringify(timeZone)}`,
    );
  };
  if (!TIME_ZONE_NAME.test(timeZone)) refuse();
  if (!resolve) return timeZone;
  return canonicalTimeZone(timeZone) ?? refuse();
}

function parseSchedule(value: unknown, field: string, resolveTimeZones: boolean): FlowSchedule {
  const raw = check.object(value, field);
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, field, [
    'name',
    'expression',
    'timeZone',
    'flexibleWindowMinutes',
    'flows',
  ]);
  const flowsProblems = problems.count;
  const flows = problems.array(raw.flows, `${field}.flows`, flowName);
  if (problems.count === flowsProblems) {
    problems.read(undefined, () => {
      if (flows.length === 0)
        throw new ConfigError(`${field}.flows`, 'must list at least one flow name');
      const duplicate = flows.find((flow, i) => flows.indexOf(flow) !== i);
      if (duplicate) throw new ConfigError(`${field}.flows`, `lists ${duplicate} twice`);
    });
  }
  const schedule: FlowSchedule = {
    name: problems.read('', () =>
      check.string(raw.name, `${field}.name`, {
        pattern: SCHEDULE_NAME,
        patternHint: 'a schedule name of 1-48 letters, digits, -, _ or .',
      }),
    ),
    expression: problems.read('', () => parseExpression(raw.expression, `${field}.expression`)),
    timeZone:
      raw.timeZone === undefined
        ? 'UTC'
        : problems.read('UTC', () =>
            parseTimeZone(raw.timeZone, `${field}.timeZone`, resolveTimeZones),
          ),
    flexibleWindowMinutes:
      raw.flexibleWindowMinutes === undefined
        ? 0
        : problems.read(0, () =>
            check.number(raw.flexibleWindowMinutes, `${field}.flexibleWindowMinutes`, {
              min: 0,
              max: 1440,
              integer: true,
            }),
          ),
    flows,
  };
  problems.throwIfAny();
  return schedule;
}

function parseHealing(value: unknown, field: string): FlowHealingPolicy {
  if (value === undefined) return DEFAULT_FLOW_HEALING;
  const raw = check.object(value, field);
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, field, Object.keys(DEFAULT_FLOW_HEALING));
  const d = DEFAULT_FLOW_HEALING;
  const int = (key: keyof FlowHealingPolicy, min: number, max: number): number =>
    raw[key] === undefined
      ? (d[key] as number)
      : problems.read(d[key] as number, () =>
          check.number(raw[key], `${field}.${key}`, { min, max, integer: true }),
        );
  const bool = (key: keyof FlowHealingPolicy): boolean =>
    raw[key] === undefined
      ? (d[key] as boolean)
      : problems.read(d[key] as boolean, () => check.boolean(raw[key], `${field}.${key}`));
  const delayProblems = problems.count;
  const delay: DelayPolicy = {
    ...d.delay,
    ...(raw.delay === undefined
      ? {}
      : problems.read({}, () => parseDelay(raw.delay, `${field}.delay`))),
  };
  if (problems.count === delayProblems) {
    problems.read(undefined, () => validateDelay(delay, `${field}.delay`));
  }
  const healing: FlowHealingPolicy = {
    rerunFailedRuns: bool('rerunFailedRuns'),
    maxReruns: int('maxReruns', 0, 10),
    delay,
    reactivateDeactivated: bool('reactivateDeactivated'),
    reactivationCooldownMinutes: int(
      'reactivationCooldownMinutes',
      0,
      MAX_REACTIVATION_COOLDOWN_MINUTES,
    ),
    maxReactivations: int('maxReactivations', 0, 100),
    reactivationWindowHours: int('reactivationWindowHours', 1, 720),
  };
  problems.throwIfAny();
  return healing;
}

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
  const resolveTimeZones = options.resolveTimeZones ?? true;
  const raw = check.object(value, field);
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, field, [
    'schedules',
    'healedFlows',
    'healing',
    'maxConcurrentStarts',
    'processing',
  ]);
  const scopeProblems = problems.count;
  const schedules = problems.array(raw.schedules ?? [], `${field}.schedules`, (v, f) =>
    parseSchedule(v, f, resolveTimeZones),
  );
  const names = schedules.map((s) => s.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) {
    problems.record(new ConfigError(`${field}.schedules`, `has two schedules named ${duplicate}`));
  }
  const healedFlows = problems.array(raw.healedFlows ?? [], `${field}.healedFlows`, flowName);
  if (problems.count === scopeProblems && schedules.length === 0 && healedFlows.length === 0) {
    problems.record(
      new ConfigError(
        `${field}.schedules`,
        'is empty: list at least one schedule, or a flow in healedFlows',
      ),
    );
  }
  const config: AppflowConfig = {
    schedules,
    healedFlows,
    healing: problems.read(DEFAULT_FLOW_HEALING, () =>
      parseHealing(raw.healing, `${field}.healing`),
    ),
    maxConcurrentStarts:
      raw.maxConcurrentStarts === undefined
        ? 5
        : problems.read(5, () =>
            check.number(raw.maxConcurrentStarts, `${field}.maxConcurrentStarts`, {
              min: 1,
              max: 50,
              integer: true,
            }),
          ),
    processing: problems.read(DEFAULT_PROCESSING, () =>
      parseProcessing(raw.processing, `${field}.processing`),
    ),
  };
  problems.throwIfAny();
  return config;
}

/** Every flow Autoheal may start or heal: the scheduled ones and the healed ones. */
export function flowsInScope(config: Pick<AppflowConfig, 'schedules' | 'healedFlows'>): string[] {
  return [...new Set([...config.schedules.flatMap((s) => s.flows), ...config.healedFlows])];
}
