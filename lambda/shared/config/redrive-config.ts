/**
 * The `redrive` section of the Autoheal config: which Step Functions failures
 * are redriven, how often and how soon.
 */
import { ConfigError } from '../errors';
import type { JsonObject } from '../fields';
import { STATE_MACHINE_ARN, STATE_MACHINE_NAME } from '../state-machine-names';
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

/** Terminal statuses Autoheal may redrive. ABORTED is only redriven when asked. */
export const REDRIVABLE_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type RedrivableStatus = (typeof REDRIVABLE_STATUSES)[number];

/**
 * Errors that fail the same way on every run with the same input: a redrive
 * cannot help, so they are never redriven by default.
 */
export const DETERMINISTIC_ERRORS: readonly string[] = [
  'States.Runtime',
  'States.DataLimitExceeded',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.NoChoiceMatched',
  'States.IntrinsicFailure',
  'States.QueryEvaluationError',
];

/** Which errors are worth a redrive. Entries are exact names or globs (`*`, `?`). */
export interface ErrorPolicy {
  /**
   * Errors never redriven. Checked first.
   * @default the deterministic `States.*` errors ({@link DETERMINISTIC_ERRORS})
   */
  readonly deny: readonly string[];
  /**
   * When non-empty, only errors matching an entry are redriven.
   * @default [] (every error not denied)
   */
  readonly allow: readonly string[];
}

/** How failures of one state machine are redriven. */
export interface RedrivePolicy {
  /**
   * Execution statuses to redrive.
   * @default ['FAILED', 'TIMED_OUT']
   */
  readonly statuses: readonly RedrivableStatus[];
  /**
   * Redrives per execution; at this count Autoheal gives up and sends a notice.
   * @default 3
   */
  readonly maxRedrives: number;
  /** @default see {@link ErrorPolicy} */
  readonly errors: ErrorPolicy;
  /** @default see {@link DelayPolicy} */
  readonly delay: DelayPolicy;
  /**
   * Decide, log and count, but never call RedriveExecution.
   * @default false
   */
  readonly observeOnly: boolean;
}

/** A per-state-machine override: any subset of {@link RedrivePolicy}. */
export interface RedrivePolicyOverride {
  readonly statuses?: readonly RedrivableStatus[];
  readonly maxRedrives?: number;
  readonly errors?: Partial<ErrorPolicy>;
  readonly delay?: Partial<DelayPolicy>;
  readonly observeOnly?: boolean;
}

/**
 * The sweeper: a scheduled reconciliation that finds failed executions with
 * ListExecutions and feeds them into the redrive path, for the failures whose
 * Step Functions event (best effort) was never delivered.
 */
export interface SweeperOptions {
  /**
   * Install the sweeper.
   * @default true
   */
  readonly enabled: boolean;
  /**
   * Minutes between two sweeps (5-1440).
   * @default 60
   */
  readonly periodMinutes: number;
  /**
   * Hours back a sweep looks, by execution start (1-336, at most the 14 days a
   * redrive is possible); must cover more than `periodMinutes`, so each sweep
   * overlaps the one before.
   * @default 24
   */
  readonly lookbackHours: number;
  /**
   * Most Step Functions list calls (ListStateMachines, ListExecutions) per
   * second, above 0 and at most 2: well inside ListExecutions' quota of 2 per
   * second (refill) in most regions.
   * @default 1
   */
  readonly requestsPerSecond: number;
}

export const DEFAULT_SWEEPER: SweeperOptions = {
  enabled: true,
  periodMinutes: 60,
  lookbackHours: 24,
  requestsPerSecond: 1,
};

const SWEEPER_KEYS = ['enabled', 'periodMinutes', 'lookbackHours', 'requestsPerSecond'] as const;

/**
 * Validates the `sweeper` options and fills in their defaults.
 *
 * @throws {ConfigError} naming the bad option, e.g. `redrive.sweeper.lookbackHours`
 * @example
 * ```ts
 * parseSweeper({ periodMinutes: 30 }, 'redrive.sweeper').lookbackHours; // 24
 * ```
 */
export function parseSweeper(value: unknown, field: string): SweeperOptions {
  if (value === undefined) return DEFAULT_SWEEPER;
  const raw = check.object(value, field);
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, field, SWEEPER_KEYS);
  const option = <K extends keyof SweeperOptions>(
    key: K,
    read: (v: unknown, f: string) => SweeperOptions[K],
  ): SweeperOptions[K] =>
    raw[key] === undefined
      ? DEFAULT_SWEEPER[key]
      : problems.read(DEFAULT_SWEEPER[key], () => read(raw[key], `${field}.${key}`));
  const before = problems.count;
  const sweeper: SweeperOptions = {
    enabled: option('enabled', (v, f) => check.boolean(v, f)),
    periodMinutes: option('periodMinutes', (v, f) =>
      check.number(v, f, { min: 5, max: 1440, integer: true }),
    ),
    lookbackHours: option('lookbackHours', (v, f) =>
      check.number(v, f, { min: 1, max: 336, integer: true }),
    ),
    requestsPerSecond: option('requestsPerSecond', (v, f) => {
      const requestsPerSecond = check.number(v, f);
      if (!(requestsPerSecond > 0 && requestsPerSecond <= 2)) {
        throw new ConfigError(
          f,
          `must be a number above 0 and at most 2, got ${requestsPerSecond}`,
        );
      }
      return requestsPerSecond;
    }),
  };
  // Depends on two options: checked only when both were read cleanly.
  if (problems.count === before && sweeper.lookbackHours * 60 <= sweeper.periodMinutes) {
    problems.record(
      new ConfigError(
        `${field}.lookbackHours`,
        `must cover more than periodMinutes (${sweeper.periodMinutes} min), so each sweep overlaps the one before; got ${sweeper.lookbackHours} h`,
      ),
    );
  }
  problems.throwIfAny();
  return sweeper;
}

/** Auto-redrive of Step Functions executions. */
export interface RedriveConfig extends RedrivePolicy {
  /** State machines in scope, by exact ARN. At least one ARN or prefix is required. */
  readonly stateMachineArns: readonly string[];
  /** State machines in scope, by name prefix in this stack's account and region. */
  readonly stateMachineNamePrefixes: readonly string[];
  /**
   * Policy overrides keyed by state machine name.
   * @default {}
   */
  readonly overrides: Readonly<Record<string, RedrivePolicyOverride>>;
  /** @default see {@link ProcessingOptions} */
  readonly processing: ProcessingOptions;
  /** @default see {@link SweeperOptions} */
  readonly sweeper: SweeperOptions;
  /**
   * Customer managed KMS keys that encrypt scoped state machines. A caller of
   * DescribeExecution on such a machine needs kms:Decrypt on its key; the
   * redrive handler is granted it on these keys, for the scoped state
   * machines only (encryption context `aws:states:stateMachineArn`).
   * @default []
   */
  readonly kmsKeyArns: readonly string[];
}

export const DEFAULT_REDRIVE_POLICY: RedrivePolicy = {
  statuses: ['FAILED', 'TIMED_OUT'],
  maxRedrives: 3,
  errors: { deny: DETERMINISTIC_ERRORS, allow: [] },
  delay: { baseSeconds: 60, factor: 4, capSeconds: 3600, jitterRatio: 0.2 },
  observeOnly: false,
};

export { STATE_MACHINE_ARN, STATE_MACHINE_NAME } from '../state-machine-names';

/** Step Functions' naming rule in words, for config errors. */
const NAME_RULE =
  '1-80 characters, none of them white space, a control character or one of < > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /';

/** A KMS key ARN (not an alias: IAM matches a key grant against the key's ARN). */
export const KMS_KEY_ARN =
  /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

const POLICY_KEYS = ['statuses', 'maxRedrives', 'errors', 'delay', 'observeOnly'] as const;
const REDRIVE_KEYS = [
  ...POLICY_KEYS,
  'stateMachineArns',
  'stateMachineNamePrefixes',
  'overrides',
  'processing',
  'sweeper',
  'kmsKeyArns',
] as const;

function parseStatuses(value: unknown, field: string): RedrivableStatus[] {
  const statuses = check.array(value, field, (v, f) => check.oneOf(v, f, REDRIVABLE_STATUSES));
  if (statuses.length === 0) {
    throw new ConfigError(field, `must list at least one of ${REDRIVABLE_STATUSES.join(', ')}`);
  }
  return [...new Set(statuses)];
}

function parseErrorNames(value: unknown, field: string): string[] {
  return check.array(value, field, (v, f) => check.string(v, f, { maxLength: 256 }));
}

function parsePolicyOverride(raw: JsonObject, field: string): RedrivePolicyOverride {
  const problems = new ConfigProblems();
  const option = <K extends keyof RedrivePolicyOverride>(
    key: K,
    read: (v: unknown, f: string) => RedrivePolicyOverride[K],
  ): RedrivePolicyOverride =>
    raw[key] === undefined
      ? {}
      : problems.read({}, () => ({ [key]: read(raw[key], `${field}.${key}`) }));
  const override: RedrivePolicyOverride = {
    ...option('statuses', parseStatuses),
    ...option('maxRedrives', (v, f) => check.number(v, f, { min: 0, max: 100, integer: true })),
    ...option('errors', parseErrorPolicy),
    ...option('delay', parseDelay),
    ...option('observeOnly', (v, f) => check.boolean(v, f)),
  };
  problems.throwIfAny();
  return override;
}

function parseErrorPolicy(value: unknown, field: string): Partial<ErrorPolicy> {
  const e = check.object(value, field);
  const problems = new ConfigProblems();
  problems.onlyKeys(e, field, ['deny', 'allow']);
  const errors: Partial<ErrorPolicy> = {
    ...(e.deny !== undefined &&
      problems.read<Partial<ErrorPolicy>>({}, () => ({
        deny: parseErrorNames(e.deny, `${field}.deny`),
      }))),
    ...(e.allow !== undefined &&
      problems.read<Partial<ErrorPolicy>>({}, () => ({
        allow: parseErrorNames(e.allow, `${field}.allow`),
      }))),
  };
  problems.throwIfAny();
  return errors;
}

/** Applies an override on top of a complete policy. */
export function applyOverride(base: RedrivePolicy, override: RedrivePolicyOverride): RedrivePolicy {
  const merged: RedrivePolicy = {
    statuses: override.statuses ?? base.statuses,
    maxRedrives: override.maxRedrives ?? base.maxRedrives,
    errors: { ...base.errors, ...override.errors },
    delay: { ...base.delay, ...override.delay },
    observeOnly: override.observeOnly ?? base.observeOnly,
  };
  return merged;
}

export type RedriveScope = Pick<RedriveConfig, 'stateMachineArns' | 'stateMachineNamePrefixes'>;

function hasScopedNamePrefix(config: RedriveScope, stateMachineName: string): boolean {
  return config.stateMachineNamePrefixes.some((prefix) => stateMachineName.startsWith(prefix));
}

/**
 * True when the scope names this state machine: one of its ARNs exactly, or a
 * name prefix under `statesArnPrefix` (`arn:PARTITION:states:REGION:ACCOUNT:`,
 * the deployment's own account and region, where prefix scope applies). A
 * Distributed Map child's `NAME/LABEL` counts as its parent machine.
 *
 * @example
 * ```ts
 * const home = 'arn:aws:states:eu-central-1:123456789012:';
 * isStateMachineInScope({ stateMachineArns: [], stateMachineNamePrefixes: ['orders-'] },
 *   `${home}stateMachine:orders-nightly`, home); // true
 * isStateMachineInScope({ stateMachineArns: [], stateMachineNamePrefixes: ['orders-'] },
 *   'arn:aws:states:us-east-1:999999999999:stateMachine:orders-nightly', home); // false
 * ```
 */
export function isStateMachineInScope(
  config: RedriveScope,
  stateMachineArn: string,
  statesArnPrefix: string,
): boolean {
  const label = stateMachineArn.indexOf('/');
  const machineArn = label === -1 ? stateMachineArn : stateMachineArn.slice(0, label);
  if (config.stateMachineArns.includes(machineArn)) return true;
  const home = `${statesArnPrefix}stateMachine:`;
  if (!machineArn.startsWith(home)) return false;
  return hasScopedNamePrefix(config, machineArn.slice(home.length));
}

/**
 * True when a state machine name is covered by the scope's ARNs or prefixes.
 * Names alone carry no account or region: use {@link isStateMachineInScope}
 * for ARNs that arrive from outside (events).
 */
export function isNameInScope(config: RedriveScope, stateMachineName: string): boolean {
  return (
    hasScopedNamePrefix(config, stateMachineName) ||
    config.stateMachineArns.some((arn) => arn.endsWith(`:stateMachine:${stateMachineName}`))
  );
}

/**
 * Validates the `redrive` section and fills in every default.
 *
 * @throws {ConfigError} naming the bad field and what it allows; a
 *   {@link ConfigErrors} listing every problem when there are several
 * @example
 * ```ts
 * const redrive = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'], maxRedrives: 5 });
 * redrive.delay.baseSeconds; // 60
 * ```
 */
export function parseRedriveConfig(value: unknown, field = 'redrive'): RedriveConfig {
  const raw = check.object(value, field);
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, field, REDRIVE_KEYS);
  const scopeProblems = problems.count;
  const stateMachineArns = problems.array(
    raw.stateMachineArns ?? [],
    `${field}.stateMachineArns`,
    (v, f) =>
      check.string(v, f, {
        pattern: STATE_MACHINE_ARN,
        patternHint: `a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME) whose NAME has ${NAME_RULE}`,
      }),
  );
  const stateMachineNamePrefixes = problems.array(
    raw.stateMachineNamePrefixes ?? [],
    `${field}.stateMachineNamePrefixes`,
    (v, f) =>
      check.string(v, f, {
        pattern: STATE_MACHINE_NAME,
        patternHint: `a state machine name prefix of ${NAME_RULE}`,
      }),
  );
  const scopeIsClean = problems.count === scopeProblems;
  if (scopeIsClean && stateMachineArns.length === 0 && stateMachineNamePrefixes.length === 0) {
    problems.record(
      new ConfigError(
        `${field}.stateMachineArns`,
        'scope is empty: list at least one state machine ARN here or a name prefix in stateMachineNamePrefixes',
      ),
    );
  }
  const policyProblems = problems.count;
  const base = applyOverride(
    DEFAULT_REDRIVE_POLICY,
    problems.read({}, () => parsePolicyOverride(raw, field)),
  );
  const baseIsClean = problems.count === policyProblems;
  if (baseIsClean) problems.read(undefined, () => validateDelay(base.delay, `${field}.delay`));

  const overrides: Record<string, RedrivePolicyOverride> = {};
  const rawOverrides = problems.read({}, () =>
    check.object(raw.overrides ?? {}, `${field}.overrides`),
  );
  const scope: RedriveScope = { stateMachineArns, stateMachineNamePrefixes };
  for (const [name, rawOverride] of Object.entries(rawOverrides)) {
    const overrideField = `${field}.overrides.${name}`;
    problems.read(undefined, () => {
      if (!STATE_MACHINE_NAME.test(name)) {
        throw new ConfigError(overrideField, `keys must be state machine names of ${NAME_RULE}`);
      }
      // A scope with a bad entry cannot say what is out of scope.
      if (scopeIsClean && !isNameInScope(scope, name)) {
        throw new ConfigError(overrideField, 'names a state machine outside the configured scope');
      }
      const override = check.object(rawOverride, overrideField);
      const overrideProblems = new ConfigProblems();
      overrideProblems.onlyKeys(override, overrideField, POLICY_KEYS);
      const parsed = overrideProblems.read(undefined, () =>
        parsePolicyOverride(override, overrideField),
      );
      if (parsed && baseIsClean) {
        overrideProblems.read(undefined, () =>
          validateDelay(applyOverride(base, parsed).delay, `${overrideField}.delay`),
        );
      }
      overrideProblems.throwIfAny();
      if (parsed) overrides[name] = parsed;
    });
  }

  const config: RedriveConfig = {
    ...base,
    stateMachineArns,
    stateMachineNamePrefixes,
    overrides,
    processing: problems.read(DEFAULT_PROCESSING, () =>
      parseProcessing(raw.processing, `${field}.processing`),
    ),
    sweeper: problems.read(DEFAULT_SWEEPER, () => parseSweeper(raw.sweeper, `${field}.sweeper`)),
    kmsKeyArns: problems.array(raw.kmsKeyArns ?? [], `${field}.kmsKeyArns`, (v, f) =>
      check.string(v, f, {
        pattern: KMS_KEY_ARN,
        patternHint: 'a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), not an alias',
      }),
    ),
  };
  problems.throwIfAny();
  return config;
}

/** The effective policy for one state machine: the config's defaults plus its override. */
export function policyFor(config: RedriveConfig, stateMachineName: string): RedrivePolicy {
  const override = config.overrides[stateMachineName];
  return override ? applyOverride(config, override) : config;
}

/** Every status any state machine in scope redrives: what the EventBridge rule must match. */
export function allConfiguredStatuses(config: RedriveConfig): RedrivableStatus[] {
  const statuses = new Set<RedrivableStatus>(config.statuses);
  for (const override of Object.values(config.overrides)) {
    for (const status of override.statuses ?? []) statuses.add(status);
  }
  return REDRIVABLE_STATUSES.filter((s) => statuses.has(s));
}
