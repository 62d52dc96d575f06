/**
 * The Autoheal configuration: one section per healer, each optional, at least
 * one present.
 *
 * The CDK app validates the user's config with {@link parseAutohealConfig} at
 * synth time and hands each handler its section as JSON; the handler parses it
 * again with the same section parser on start, so infra and runtime share one
 * definition of every option and its default.
 */

import { type AppflowConfig, parseAppflowConfig } from './config/appflow-config';
import { ConfigProblems, check } from './config/common';
import { type OperatorsConfig, parseOperatorsConfig } from './config/operators-config';
import { parseRedriveConfig, type RedriveConfig } from './config/redrive-config';
import { ConfigError, type ConfigErrors } from './errors';

export * from './config/appflow-config';
export * from './config/common';
export * from './config/redrive-config';

/** The whole Autoheal configuration. */
export interface AutohealConfig {
  /** Auto-redrive of Step Functions executions. @default - not installed */
  readonly redrive?: RedriveConfig;
  /** Scheduled AppFlow runs and their healing. @default - not installed */
  readonly appflow?: AppflowConfig;
  /** Who may send to the work queues by hand (dead-letter replays). @default - nobody but Autoheal */
  readonly operators?: OperatorsConfig;
}

/** The sections of the config: the two healers, and who operates them. */
export const CONFIG_SECTIONS = ['redrive', 'appflow', 'operators'] as const;

/**
 * Validates a raw Autoheal config and fills in every default. A section set
 * to `null` is left out on purpose (not installed), like an absent one.
 *
 * @throws {ConfigError} naming the bad field and what it allows; a
 *   {@link ConfigErrors} listing every problem when there are several
 * @example
 * ```ts
 * const config = parseAutohealConfig({
 *   redrive: { stateMachineNamePrefixes: ['orders-'], maxRedrives: 5 },
 * });
 * config.redrive?.delay.baseSeconds; // 60
 * ```
 */
export function parseAutohealConfig(value: unknown): AutohealConfig {
  const raw = check.object(value, 'autoheal');
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, 'autoheal', CONFIG_SECTIONS);
  if (raw.redrive == null && raw.appflow == null) {
    problems.record(
      new ConfigError(
        'autoheal',
        'configures nothing: add a "redrive" section, an "appflow" section, or both',
      ),
    );
  }
  const redrive =
    raw.redrive == null
      ? undefined
      : problems.read(undefined, () => parseRedriveConfig(raw.redrive));
  const appflow =
    raw.appflow == null
      ? undefined
      : problems.read(undefined, () => parseAppflowConfig(raw.appflow));
  const operators =
    raw.operators == null
      ? undefined
      : problems.read(undefined, () => parseOperatorsConfig(raw.operators));
  problems.throwIfAny();
  return {
    ...(redrive && { redrive }),
    ...(appflow && { appflow }),
    ...(operators && { operators }),
  };
}
