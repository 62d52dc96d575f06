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
  /**
   * The accounts and regions the app deploys to, one CDK Stage each. Read by
   * the app (bin/) only; the construct and the handlers ignore it.
   * @default - one stack in the CDK CLI's account and region
   */
  readonly environments?: readonly DeploymentEnvironment[];
}

/**
 * One account and region the app deploys Autoheal to.
 * TEMPORARY (issue 12, branch i12-envs): hand-parsed until the zod schema's
 * `environments` field replaces it; bin/ reads only `AutohealConfig.environments`.
 */
export interface DeploymentEnvironment {
  /** 12-digit AWS account id. */
  readonly account: string;
  /** AWS region, e.g. `eu-west-1`. */
  readonly region: string;
  /** The Stage's name. @default `${account}-${region}` */
  readonly name?: string;
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
  problems.onlyKeys(raw, 'autoheal', [...CONFIG_SECTIONS, 'environments']);
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
  const environments =
    raw.environments == null
      ? undefined
      : problems.read(undefined, () => parseEnvironments(raw.environments));
  problems.throwIfAny();
  return {
    ...(redrive && { redrive }),
    ...(appflow && { appflow }),
    ...(operators && { operators }),
    ...(environments && { environments }),
  };
}

/** TEMPORARY (issue 12): the zod schema's `environments` replaces this at merge. */
function parseEnvironments(value: unknown): DeploymentEnvironment[] {
  return check.array(value, 'environments', (item, field) => {
    const raw = check.object(item, field);
    check.onlyKeys(raw, field, ['account', 'region', 'name']);
    const account = check.string(raw.account, `${field}.account`, {
      pattern: /^\d{12}$/,
      patternHint: 'a 12-digit AWS account id',
    });
    const region = check.string(raw.region, `${field}.region`, {
      pattern: /^[a-z]{2}(-[a-z]+)+-\d+$/,
      patternHint: 'an AWS region such as eu-west-1',
    });
    if (raw.name == null) return { account, region };
    return { account, region, name: check.string(raw.name, `${field}.name`, { minLength: 1 }) };
  });
}
