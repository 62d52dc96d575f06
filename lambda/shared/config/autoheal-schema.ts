/**
 * The zod schema of the whole Autoheal config: the sections, and where the
 * app deploys (`environments`). Declared once: `AutohealConfig`, the JSON
 * Schema in `schema/autoheal-config.schema.json` and the one-line problems of
 * {@link parseAutohealConfig} all come from here.
 */
import { z } from 'zod';
import { appflowSchema } from './appflow-schema';
import type { Immutable } from './common';
import { parseWith } from './config-issues';
import { dashboardSchema } from './dashboard-schema';
import { noticesSchema } from './notices-schema';
import { operatorsSchema } from './operators-schema';
import { redriveSchema } from './redrive-schema';
import { cleanAt, list, section, text } from './zod-rules';

/** The sections of the config: the two healers, who operates them, and how their notices are sent. */
export const CONFIG_SECTIONS = ['redrive', 'appflow', 'operators', 'notices', 'dashboard'] as const;

/** A 12-digit AWS account id. */
export const ACCOUNT_ID = /^\d{12}$/;
/** An AWS region name: `eu-west-1`, `us-gov-west-1`, `ap-southeast-4`. */
export const REGION_NAME = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
/**
 * A CDK Stage name as CDK accepts it (a letter, then letters, digits, `-`,
 * `_`, `.`), at most 100 characters, which leaves room for `-Autoheal` within
 * CloudFormation's 128 characters of stack name.
 */
export const STAGE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

/** One account and region the app deploys Autoheal to, as a CDK Stage of its own. */
export const deploymentEnvironmentSchema = section({
  account: text({ pattern: ACCOUNT_ID, patternHint: 'a 12-digit AWS account id' }).describe(
    'The AWS account id (12 digits).',
  ),
  region: text({ pattern: REGION_NAME, patternHint: 'an AWS region such as "eu-west-1"' }).describe(
    'The AWS region, e.g. eu-west-1.',
  ),
  name: text({
    pattern: STAGE_NAME,
    patternHint:
      'a CDK Stage name: a letter, then letters, digits, "-", "_" and "." (at most 100 characters)',
  })
    .optional()
    .describe('The CDK Stage name. Defaults to one made of the account and region.'),
}).describe('One account and region the app deploys Autoheal to, as a CDK Stage of its own.');

/** One account and region the app deploys Autoheal to. */
export type DeploymentEnvironment = Immutable<z.output<typeof deploymentEnvironmentSchema>>;

/** The Stage name of an environment: its `name`, else `env-ACCOUNT-REGION` (CDK wants a letter first). */
export function stageNameOf(environment: {
  account: string;
  region: string;
  name?: string;
}): string {
  return environment.name ?? `env-${environment.account}-${environment.region}`;
}

const environmentsSchema = list(deploymentEnvironmentSchema)
  .superRefine(
    (environments, ctx) => {
      const places = new Map<string, number>();
      const names = new Map<string, number>();
      environments.forEach((environment, i) => {
        const place = `${environment.account}/${environment.region}`;
        const name = stageNameOf(environment).toLowerCase();
        const samePlace = places.get(place);
        const sameName = names.get(name);
        if (samePlace !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `deploys to account ${environment.account}, region ${environment.region}, as environments[${samePlace}] does; list each account and region once`,
          });
        } else if (sameName !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `names the Stage "${stageNameOf(environment)}", as environments[${sameName}] does (names differing only in case collide in stack names); give each environment its own name`,
          });
        }
        if (samePlace === undefined) places.set(place, i);
        if (sameName === undefined) names.set(name, i);
      });
    },
    { when: cleanAt() },
  )
  .describe(
    'Where the app deploys Autoheal: one CDK Stage per account and region, each listed once. Left out, the app deploys one stack to the CLI environment. Never passed to a handler.',
  );

/**
 * The whole Autoheal configuration. A section set to `null` is left out on
 * purpose (not installed), like an absent one; `$schema` (a config file's
 * link to the JSON Schema, for editors) is accepted and dropped.
 */
export const autohealConfigSchema = section(
  {
    $schema: z
      .string()
      .optional()
      .describe(
        'The JSON Schema of this file, for editors: ./schema/autoheal-config.schema.json. Ignored.',
      ),
    redrive: redriveSchema.nullish(),
    appflow: appflowSchema.nullish(),
    operators: operatorsSchema.nullish(),
    // null is the defaults, like an absent section: the notices are always sent somehow.
    notices: noticesSchema.nullish(),
    // null is the defaults too: the dashboard is on unless turned off.
    dashboard: dashboardSchema.nullish(),
    environments: environmentsSchema.optional(),
  },
  [...CONFIG_SECTIONS, 'environments'],
)
  .superRefine(
    (config, ctx) => {
      if (config.redrive == null && config.appflow == null) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'configures nothing: add a "redrive" section, an "appflow" section, or both',
        });
      }
    },
    // Whatever else is wrong: a config that configures nothing says so first.
    {
      when: (payload) =>
        typeof payload.value === 'object' &&
        payload.value !== null &&
        !Array.isArray(payload.value),
    },
  )
  .transform(({ redrive, appflow, operators, notices, dashboard, environments }) => ({
    ...(redrive != null && { redrive }),
    ...(appflow != null && { appflow }),
    ...(operators != null && { operators }),
    notices: notices ?? noticesSchema.parse({}),
    dashboard: dashboard ?? dashboardSchema.parse({}),
    ...(environments !== undefined && { environments }),
  }))
  .describe(
    'The Autoheal configuration: one section per healer (redrive, appflow; at least one), who operates them, how their notices are sent, and where the app deploys.',
  );

/** The whole Autoheal configuration, with every default filled in. */
export type AutohealConfig = Immutable<z.output<typeof autohealConfigSchema>>;

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
  return parseWith(autohealConfigSchema, value, '', 'autoheal');
}
