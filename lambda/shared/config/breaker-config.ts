/**
 * The storm brake's options as the redrive handler reads them: the `redrive`
 * section's `breaker` options, with a state machine's
 * `overrides[name].breaker` on top.
 *
 * Free of zod, for the handlers: the synth-time schema (in
 * `redrive-schema.ts`) validates the options and fills in their defaults; the
 * handler reads the normalised file and only merges here. Every option the
 * file leaves out falls back to {@link DEFAULT_BREAKER_OPTIONS}, so a config
 * written before the breaker existed reads as "enabled with the defaults".
 */
import { parseStateMachineArn } from '../state-machine-names';

/** The breaker's options for one state machine (`redrive.breaker`, per machine overridable). */
export interface BreakerOptions {
  /**
   * Whether the breaker is computed at all for the machine.
   * @default true
   */
  readonly enabled: boolean;
  /**
   * The sliding window of settled redrives, in minutes.
   * @default 10
   */
  readonly windowMinutes: number;
  /**
   * Relapses in the window needed to open.
   * @default 20
   */
  readonly minRelapses: number;
  /**
   * Share of relapses among the settled redrives (relapses + recoveries) in
   * the window needed to open, 0 < ratio <= 1.
   * @default 0.8
   */
  readonly relapseRatio: number;
  /**
   * Minutes an open breaker waits before it lets probes through (first opening).
   * @default 5
   */
  readonly cooldownMinutes: number;
  /**
   * Growth of the cool-down on each re-open.
   * @default 2
   */
  readonly cooldownFactor: number;
  /**
   * Cap of the grown cool-down, in minutes. A breaker closed for this long
   * starts again from `cooldownMinutes` at its next opening.
   * @default 60
   */
  readonly maxCooldownMinutes: number;
  /**
   * Probe redrives in half-open, oldest held failures first.
   * @default 3
   */
  readonly probes: number;
}

/**
 * The defaults of `redrive.breaker`.
 *
 * @example
 * ```ts
 * const options: BreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, minRelapses: 5 };
 * ```
 */
export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = Object.freeze({
  enabled: true,
  windowMinutes: 10,
  minRelapses: 20,
  relapseRatio: 0.8,
  cooldownMinutes: 5,
  cooldownFactor: 2,
  maxCooldownMinutes: 60,
  probes: 3,
});

/** What of the `redrive` section the breaker options come from. */
export interface BreakerConfigSource {
  /** The section's `breaker` options (all of them once normalised). */
  readonly breaker?: Partial<BreakerOptions>;
  /** Per state machine name: the policy override, with any subset of the breaker options. */
  readonly overrides?: Readonly<
    Record<
      string,
      { readonly breaker?: Partial<BreakerOptions>; readonly [option: string]: unknown }
    >
  >;
}

/**
 * The breaker options of one state machine: the defaults, then the section's
 * `breaker`, then the machine's `overrides[name].breaker`.
 *
 * @param config the normalised `redrive` section
 * @param stateMachineName the machine's name (the override key)
 * @default {@link DEFAULT_BREAKER_OPTIONS} for every option the config leaves out
 * @example
 * ```ts
 * const options = breakerOptionsFor(
 *   { breaker: { minRelapses: 10 }, overrides: { 'orders-nightly': { breaker: { enabled: false } } } },
 *   'orders-nightly',
 * );
 * options.enabled; // false
 * options.minRelapses; // 10
 * ```
 */
export function breakerOptionsFor(
  config: BreakerConfigSource,
  stateMachineName: string,
): BreakerOptions {
  const override = config.overrides?.[stateMachineName]?.breaker;
  if (config.breaker === undefined && override === undefined) return DEFAULT_BREAKER_OPTIONS;
  return { ...DEFAULT_BREAKER_OPTIONS, ...config.breaker, ...override };
}

/**
 * True when the breaker of at least one state machine may be enabled: the
 * section's default, or any override. The redrive handler needs the healing
 * state table only then; the rule matches redriven successes only then.
 *
 * @example
 * ```ts
 * breakerEnabledAnywhere({ breaker: { enabled: false }, overrides: {} }); // false
 * breakerEnabledAnywhere({ breaker: { enabled: false }, overrides: { a: { breaker: { enabled: true } } } }); // true
 * ```
 */
export function breakerEnabledAnywhere(config: BreakerConfigSource): boolean {
  const enabledByDefault = config.breaker?.enabled ?? DEFAULT_BREAKER_OPTIONS.enabled;
  if (enabledByDefault) return true;
  return Object.values(config.overrides ?? {}).some((override) => override.breaker?.enabled);
}

/**
 * {@link breakerOptionsFor} by state machine ARN, as the breaker store asks
 * for a machine's options (its window). An ARN that names no state machine
 * gets the section's options.
 *
 * @example
 * ```ts
 * const store = createBreakerStore({ dynamodb, tableName, optionsFor: breakerOptionsByArn(config) });
 * ```
 */
export function breakerOptionsByArn(
  config: BreakerConfigSource,
): (stateMachineArn: string) => BreakerOptions {
  return (stateMachineArn) =>
    breakerOptionsFor(config, parseStateMachineArn(stateMachineArn)?.stateMachineName ?? '');
}
