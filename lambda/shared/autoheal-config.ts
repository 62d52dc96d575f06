/**
 * The Autoheal configuration: one section per healer, each optional, at least
 * one present, plus who operates them and where the app deploys.
 *
 * The schema is declared once, with zod, in `config/*-schema.ts`: the types
 * are inferred from it, `schema/autoheal-config.schema.json` is generated from
 * it, and its issues become one-line, field-named {@link ConfigError}s. The
 * CDK app validates the user's config with {@link parseAutohealConfig} at
 * synth time and hands each handler its normalised section as JSON; handlers
 * read it without zod (see `normalised-config.ts`).
 *
 * Synth side only: this module imports zod. Handlers import the zod-free
 * modules `config/*-config.ts` and `config/common.ts`.
 */

export * from './config/appflow-config';
export { appflowSchema, parseAppflowConfig } from './config/appflow-schema';
export * from './config/autoheal-schema';
export * from './config/common';
export type { DelayDefaults } from './config/common-schema';
export { delaySchema, processingSchema } from './config/common-schema';
export { configErrorOf, fieldOf } from './config/config-issues';
export { type DashboardConfig, dashboardSchema } from './config/dashboard-schema';
export * from './config/notices-config';
export { noticesSchema, parseNoticesConfig } from './config/notices-schema';
export * from './config/operators-config';
export { operatorsSchema, parseOperatorsConfig } from './config/operators-schema';
export * from './config/redrive-config';
export {
  breakerOverrideSchema,
  breakerSchema,
  parseRedriveConfig,
  parseSweeper,
  redrivePolicyOverrideSchema,
  redriveSchema,
  sweeperSchema,
} from './config/redrive-schema';
