/**
 * The `redrive` section of the Autoheal config: which Step Functions failures
 * are redriven, how often and how soon.
 *
 * This module is free of zod, for the handlers: constants, defaults and the
 * pure helpers over a parsed config. The schema, its types and
 * `parseRedriveConfig` are in `redrive-schema.ts`.
 */
import type { RedriveConfig, RedrivePolicy, RedrivePolicyOverride } from './redrive-schema';
import { scopeIndexOf } from './scope-index';

export type {
  BreakerOptions,
  BreakerOverride,
  ErrorPolicy,
  RedriveConfig,
  RedrivePolicy,
  RedrivePolicyOverride,
  SweeperOptions,
} from './redrive-schema';

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

/** The sweeper unless the config says otherwise. */
export const DEFAULT_SWEEPER = {
  enabled: true,
  periodMinutes: 60,
  lookbackHours: 24,
  requestsPerSecond: 1,
};

/**
 * The storm brake (circuit breaker per state machine) unless the config says
 * otherwise: it opens when, within `windowMinutes`, at least `minRelapses`
 * redriven executions failed again and they make up at least `relapseRatio`
 * of the settled redrives; it lets `probes` held failures through after a
 * cool-down of `min(cooldownMinutes × cooldownFactor^(openings − 1), maxCooldownMinutes)`.
 */
export { DEFAULT_BREAKER_OPTIONS as DEFAULT_BREAKER } from './breaker-config';

/**
 * The longest breaker window and cool-down: a day. A held failure must be
 * probed well within the 14 days Step Functions allows a redrive.
 */
export const MAX_BREAKER_MINUTES = 1440;

/** The redrive policy unless the config says otherwise. */
export const DEFAULT_REDRIVE_POLICY = {
  statuses: ['FAILED', 'TIMED_OUT'] as RedrivableStatus[],
  maxRedrives: 3,
  errors: { deny: DETERMINISTIC_ERRORS, allow: [] },
  delay: { baseSeconds: 60, factor: 4, capSeconds: 3600, jitterRatio: 0.2 },
  observeOnly: false,
};

export { STATE_MACHINE_ARN, STATE_MACHINE_NAME } from '../state-machine-names';

/** Step Functions' naming rule in words, for config errors. */
export const NAME_RULE =
  '1-80 characters, none of them white space, a control character or one of < > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /';

/** A KMS key ARN (not an alias: IAM matches a key grant against the key's ARN). */
export const KMS_KEY_ARN =
  /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

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

/**
 * What the redrive handler reads from the config file's `redrive` section: the construct
 * leaves out the options only the infra reads.
 */
export type RedriveHandlerConfig = Omit<RedriveConfig, 'processing' | 'sweeper' | 'kmsKeyArns'>;

/** What the sweeper reads from the same variable: its own options too. */
export type SweeperHandlerConfig = Omit<RedriveConfig, 'processing' | 'kmsKeyArns'>;

export { breakerEnabledAnywhere, breakerOptionsFor } from './breaker-config';
export { scopeIndexOf } from './scope-index';

export type RedriveScope = Pick<RedriveConfig, 'stateMachineArns' | 'stateMachineNamePrefixes'>;

/**
 * True when the scope names this state machine: one of its ARNs exactly, or a
 * name prefix under `statesArnPrefix` (`arn:PARTITION:states:REGION:ACCOUNT:`,
 * the deployment's own account and region, where prefix scope applies). A
 * Distributed Map child's `NAME/LABEL` counts as its parent machine. A few hash
 * lookups whatever the scope's size: the config's scope index
 * ({@link scopeIndexOf}) is built on the first call and cached with the config.
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
  const scope = scopeIndexOf(config);
  const label = stateMachineArn.indexOf('/');
  const machineArn = label === -1 ? stateMachineArn : stateMachineArn.slice(0, label);
  if (scope.hasArn(machineArn)) return true;
  const home = `${statesArnPrefix}stateMachine:`;
  if (!machineArn.startsWith(home)) return false;
  return scope.hasNamePrefixOf(machineArn.slice(home.length));
}

/**
 * True when a state machine name is covered by the scope's ARNs or prefixes.
 * Names alone carry no account or region: use {@link isStateMachineInScope}
 * for ARNs that arrive from outside (events).
 */
export function isNameInScope(config: RedriveScope, stateMachineName: string): boolean {
  const scope = scopeIndexOf(config);
  return scope.hasNamePrefixOf(stateMachineName) || scope.hasArnNamed(stateMachineName);
}

/** The effective policy for one state machine: the config's defaults plus its override. */
export function policyFor(
  config: RedrivePolicy & Pick<RedriveConfig, 'overrides'>,
  stateMachineName: string,
): RedrivePolicy {
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
