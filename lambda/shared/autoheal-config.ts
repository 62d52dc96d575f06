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
import { check } from './config/common';
import { type OperatorsConfig, parseOperatorsConfig } from './config/operators-config';
import { parseRedriveConfig, type RedriveConfig } from './config/redrive-config';
import { ConfigError } from './errors';

export * from './config/appflow-config';
export * from './config/common';
export * from './config/operators-config';
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

/**
 * Validates a raw Autoheal config and fills in every default.
 *
 * @throws {ConfigError} naming the first bad field and what it allows
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
  check.onlyKeys(raw, 'autoheal', ['redrive', 'appflow', 'operators']);
  if (raw.redrive === undefined && raw.appflow === undefined) {
    throw new ConfigError(
      'autoheal',
      'configures nothing: add a "redrive" section, an "appflow" section, or both',
    );
  }
  return {
    ...(raw.redrive !== undefined && { redrive: parseRedriveConfig(raw.redrive) }),
    ...(raw.appflow !== undefined && { appflow: parseAppflowConfig(raw.appflow) }),
    ...(raw.operators !== undefined && { operators: parseOperatorsConfig(raw.operators) }),
  };
}
