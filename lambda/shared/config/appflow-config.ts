/**
 * The `appflow` section of the Autoheal config: which AppFlow flows run on
 * which schedule, and how failed runs and deactivated flows are healed.
 *
 * This module is free of zod, for the handlers: constants, defaults and the
 * pure helpers over a parsed config. The schema, its types and
 * `parseAppflowConfig` are in `appflow-schema.ts`.
 */
import type { AppflowConfig } from './appflow-schema';

export type {
  AppflowConfig,
  AppflowConfigParseOptions,
  FlowHealingPolicy,
  FlowSchedule,
} from './appflow-schema';

/** AppFlow's flow name pattern (no spaces), at most 256 characters. */
export const FLOW_NAME = /^[a-zA-Z0-9][\w!@#.-]+$/;
/** EventBridge Scheduler schedule names: letters, digits, `-`, `_`, `.`; Autoheal prefixes them. */
export const SCHEDULE_NAME = /^[0-9a-zA-Z_.-]{1,48}$/;

/** The longest re-activation cool-down: 24 hours. */
export const MAX_REACTIVATION_COOLDOWN_MINUTES = 1440;

/** How failed runs and deactivated flows are healed unless the config says otherwise. */
export const DEFAULT_FLOW_HEALING = {
  rerunFailedRuns: true,
  maxReruns: 2,
  delay: { baseSeconds: 300, factor: 2, capSeconds: 3600, jitterRatio: 0.2 },
  reactivateDeactivated: true,
  reactivationCooldownMinutes: 30,
  maxReactivations: 3,
  reactivationWindowHours: 24,
};

/** Flows of one tick started at the same time unless the config says otherwise. */
export const DEFAULT_MAX_CONCURRENT_STARTS = 5;

/**
 * What the AppFlow handlers read from the config file's `appflow` section: the construct
 * leaves out the options only the infra reads.
 */
export type AppflowHandlerConfig = Omit<AppflowConfig, 'processing'>;

/**
 * The flows the flow starter starts, each once, in the order of the
 * schedules: the list its `AUTOHEAL_SCOPE_ROLES` indexes.
 *
 * @example
 * scheduledFlowsOf({ schedules: [{ flows: ['a', 'b'] }, { flows: ['b', 'c'] }] }); // ['a', 'b', 'c']
 */
export function scheduledFlowsOf(config: Pick<AppflowConfig, 'schedules'>): string[] {
  return [...new Set(config.schedules.flatMap((s) => s.flows))];
}

/**
 * Every flow Autoheal may start or heal: the scheduled ones and the healed
 * ones, each once; the list the flow healer's `AUTOHEAL_SCOPE_ROLES` indexes.
 */
export function flowsInScope(config: Pick<AppflowConfig, 'schedules' | 'healedFlows'>): string[] {
  return [...new Set([...config.schedules.flatMap((s) => s.flows), ...config.healedFlows])];
}
