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
import { type BreakerOptions, DEFAULT_BREAKER_OPTIONS } from '../../redrive/breaker/breaker-policy';
import { parseStateMachineArn } from '../state-machine-names';

export type { BreakerOptions } from '../../redrive/breaker/breaker-policy';

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
