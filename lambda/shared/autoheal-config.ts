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
}

/** The sections of the config, each a healer. */
export const CONFIG_SECTIONS = ['redrive', 'appflow'] as const;

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
  problems.throwIfAny();
  return {
    ...(redrive && { redrive }),
    ...(appflow && { appflow }),
  };
}
