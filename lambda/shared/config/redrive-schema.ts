/**
 * The zod schema of the `redrive` section, declared once: its types, its
 * defaults, its JSON Schema and its one-line problems all come from here.
 * Synth side only (zod stays out of the handler bundles); the constants and
 * pure helpers are in `redrive-config.ts`.
 */
import { z } from 'zod';
import { describeValue } from '../fields';
import { STATE_MACHINE_ARN, STATE_MACHINE_NAME } from '../state-machine-names';
import type { Immutable } from './common';
import {
  checkCapAboveBase,
  delayOverrideSchema,
  delaySchema,
  processingSchema,
} from './common-schema';
import { parseWith } from './config-issues';
import {
  applyOverride,
  breakerOptionsFor,
  DEFAULT_BREAKER,
  DEFAULT_REDRIVE_POLICY,
  DEFAULT_SWEEPER,
  isNameInScope,
  KMS_KEY_ARN,
  MAX_BREAKER_MINUTES,
  NAME_RULE,
  REDRIVABLE_STATUSES,
} from './redrive-config';
import {
  cleanAt,
  decimal,
  flag,
  inOrder,
  integer,
  list,
  namedMap,
  oneOf,
  section,
  text,
} from './zod-rules';

const statusesSchema = list(oneOf(REDRIVABLE_STATUSES))
  .min(1, { error: `must list at least one of ${REDRIVABLE_STATUSES.join(', ')}` })
  // A status listed twice is the same status.
  .transform((statuses) => [...new Set(statuses)])
  .describe('Execution statuses to redrive: FAILED, TIMED_OUT, ABORTED (ABORTED only when asked).');

const errorNamesSchema = list(text({ maxLength: 256 }));

const ERROR_DOCS = {
  deny: 'Errors never redriven (exact names or globs with * and ?). Checked first. Defaults to the deterministic States.* errors.',
  allow:
    'When non-empty, only errors matching an entry are redriven (exact names or globs with * and ?).',
} as const;

const POLICY_DOCS = {
  maxRedrives:
    'Redrives per execution (0-100); at this count Autoheal gives up and sends a notice.',
  errors: 'Which errors are worth a redrive. Entries are exact names or globs (*, ?).',
  observeOnly: 'Decide, log and count, but never call RedriveExecution.',
} as const;

const BREAKER_DOCS = {
  enabled:
    'Stop redriving a state machine whose redrives keep failing again (the storm brake); its failures are held and redriven once probes succeed.',
  windowMinutes: `Sliding window of settled redrives the breaker counts, in minutes (1-${MAX_BREAKER_MINUTES}).`,
  minRelapses:
    'Relapses (redriven executions that failed again) within the window needed to open the breaker (1-10000).',
  relapseRatio:
    'Share of relapses among the settled redrives of the window (relapses / (relapses + recoveries)) needed to open the breaker, above 0 and at most 1.',
  cooldownMinutes: `Minutes an opened breaker waits before probing (1-${MAX_BREAKER_MINUTES}); grows by cooldownFactor on each re-open.`,
  cooldownFactor: 'Growth of the cool-down on each re-open (1-10).',
  maxCooldownMinutes: `Longest cool-down, in minutes (1-${MAX_BREAKER_MINUTES}); at least cooldownMinutes.`,
  probes:
    'Held failures redriven (oldest first) when the cool-down ends; the breaker closes if they succeed (1-50).',
} as const;

const relapseRatio = () =>
  z
    .number({ error: (issue) => `must be a number, got ${describeValue(issue.input)}` })
    .gt(0, { error: aboveZeroAtMostOne })
    .lte(1, { error: aboveZeroAtMostOne });

function aboveZeroAtMostOne(issue: { readonly input?: unknown }): string {
  return `must be a number above 0 and at most 1, got ${String(issue.input)}`;
}

const breakerMinutes = () => integer(1, MAX_BREAKER_MINUTES);

/** The breaker as written in an override: any subset, merged over the section's `breaker`. */
export const breakerOverrideSchema = section({
  enabled: flag().describe(BREAKER_DOCS.enabled).optional(),
  windowMinutes: breakerMinutes().describe(BREAKER_DOCS.windowMinutes).optional(),
  minRelapses: integer(1, 10000).describe(BREAKER_DOCS.minRelapses).optional(),
  relapseRatio: relapseRatio().describe(BREAKER_DOCS.relapseRatio).optional(),
  cooldownMinutes: breakerMinutes().describe(BREAKER_DOCS.cooldownMinutes).optional(),
  cooldownFactor: decimal(1, 10).describe(BREAKER_DOCS.cooldownFactor).optional(),
  maxCooldownMinutes: breakerMinutes().describe(BREAKER_DOCS.maxCooldownMinutes).optional(),
  probes: integer(1, 50).describe(BREAKER_DOCS.probes).optional(),
}).describe("Any subset of the breaker options, merged over the redrive section's breaker.");

/**
 * The cross-field rule of a breaker: the cool-down cap is at least the base
 * cool-down. Adds its problem at `maxCooldownMinutes` of the breaker checked.
 */
function checkCooldownCap(
  breaker: { readonly cooldownMinutes: number; readonly maxCooldownMinutes: number },
  ctx: z.RefinementCtx,
  path: readonly PropertyKey[] = [],
): void {
  if (breaker.maxCooldownMinutes < breaker.cooldownMinutes) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'maxCooldownMinutes'],
      message: `must be at least cooldownMinutes (${breaker.cooldownMinutes}), got ${breaker.maxCooldownMinutes}`,
    });
  }
}

/**
 * The storm brake: a circuit breaker per state machine that stops redriving
 * into a broken downstream, holds its failures, probes after a growing
 * cool-down and redrives the held backlog once probes succeed.
 */
export const breakerSchema = section({
  enabled: flag().default(DEFAULT_BREAKER.enabled).describe(BREAKER_DOCS.enabled),
  windowMinutes: breakerMinutes()
    .default(DEFAULT_BREAKER.windowMinutes)
    .describe(BREAKER_DOCS.windowMinutes),
  minRelapses: integer(1, 10000)
    .default(DEFAULT_BREAKER.minRelapses)
    .describe(BREAKER_DOCS.minRelapses),
  relapseRatio: relapseRatio()
    .default(DEFAULT_BREAKER.relapseRatio)
    .describe(BREAKER_DOCS.relapseRatio),
  cooldownMinutes: breakerMinutes()
    .default(DEFAULT_BREAKER.cooldownMinutes)
    .describe(BREAKER_DOCS.cooldownMinutes),
  cooldownFactor: decimal(1, 10)
    .default(DEFAULT_BREAKER.cooldownFactor)
    .describe(BREAKER_DOCS.cooldownFactor),
  maxCooldownMinutes: breakerMinutes()
    .default(DEFAULT_BREAKER.maxCooldownMinutes)
    .describe(BREAKER_DOCS.maxCooldownMinutes),
  probes: integer(1, 50).default(DEFAULT_BREAKER.probes).describe(BREAKER_DOCS.probes),
})
  .superRefine((breaker, ctx) => checkCooldownCap(breaker, ctx), { when: cleanAt() })
  .prefault({})
  .describe(
    'The storm brake: a circuit breaker per state machine that stops redriving while redriven executions keep failing again, holds the failures, and redrives them once probes succeed.',
  );

/** The breaker options of a state machine, with every value filled in. */
export type BreakerOptions = Immutable<z.output<typeof breakerSchema>>;

/** The breaker options of an override: any subset of {@link BreakerOptions}. */
export type BreakerOverride = Immutable<z.output<typeof breakerOverrideSchema>>;

/** A per-state-machine override: any subset of the redrive policy. */
export const redrivePolicyOverrideSchema = section({
  statuses: statusesSchema.optional(),
  maxRedrives: integer(0, 100).describe(POLICY_DOCS.maxRedrives).optional(),
  errors: section({
    deny: errorNamesSchema.describe(ERROR_DOCS.deny).optional(),
    allow: errorNamesSchema.describe(ERROR_DOCS.allow).optional(),
  })
    .describe(POLICY_DOCS.errors)
    .optional(),
  delay: delayOverrideSchema.optional(),
  observeOnly: flag().describe(POLICY_DOCS.observeOnly).optional(),
  breaker: breakerOverrideSchema.optional(),
}).describe('A per-state-machine override: any subset of the redrive policy.');

/** A per-state-machine override: any subset of {@link RedrivePolicy}. */
export type RedrivePolicyOverride = Immutable<z.output<typeof redrivePolicyOverrideSchema>>;

/**
 * The sweeper: a scheduled reconciliation that finds failed executions with
 * ListExecutions and feeds them into the redrive path, for the failures whose
 * Step Functions event (best effort) was never delivered.
 */
export const sweeperSchema = section({
  enabled: flag().default(DEFAULT_SWEEPER.enabled).describe('Install the sweeper.'),
  periodMinutes: integer(5, 1440)
    .default(DEFAULT_SWEEPER.periodMinutes)
    .describe('Minutes between two sweeps (5-1440).'),
  lookbackHours: integer(1, 336)
    .default(DEFAULT_SWEEPER.lookbackHours)
    .describe(
      'Hours back a sweep looks, by execution start (1-336, at most the 14 days a redrive is possible); must cover more than periodMinutes, so each sweep overlaps the one before.',
    ),
  requestsPerSecond: z
    .number({ error: (issue) => `must be a number, got ${describeValue(issue.input)}` })
    .gt(0, { error: aboveZeroAtMostTwo })
    .lte(2, { error: aboveZeroAtMostTwo })
    .default(DEFAULT_SWEEPER.requestsPerSecond)
    .describe(
      "Most Step Functions list calls (ListStateMachines, ListExecutions) per second, above 0 and at most 2: well inside ListExecutions' quota of 2 per second in most regions.",
    ),
})
  .superRefine(
    (sweeper, ctx) => {
      if (sweeper.lookbackHours * 60 <= sweeper.periodMinutes) {
        ctx.addIssue({
          code: 'custom',
          path: ['lookbackHours'],
          message: `must cover more than periodMinutes (${sweeper.periodMinutes} min), so each sweep overlaps the one before; got ${sweeper.lookbackHours} h`,
        });
      }
    },
    { when: cleanAt() },
  )
  .prefault({})
  .describe(
    'The sweeper: a scheduled reconciliation that finds failed executions with ListExecutions and feeds them into the redrive path.',
  );

function aboveZeroAtMostTwo(issue: { readonly input?: unknown }): string {
  return `must be a number above 0 and at most 2, got ${String(issue.input)}`;
}

/** The sweeper options, with every value filled in. */
export type SweeperOptions = Immutable<z.output<typeof sweeperSchema>>;

const POLICY_KEYS = ['statuses', 'maxRedrives', 'errors', 'delay', 'observeOnly'] as const;
/** The redrive section's options, in the order the message of an unknown key lists them. */
const REDRIVE_KEYS: (keyof typeof redriveShape)[] = [
  ...POLICY_KEYS,
  'breaker',
  'stateMachineArns',
  'stateMachineNamePrefixes',
  'overrides',
  'processing',
  'sweeper',
  'kmsKeyArns',
];

/** The redrive policy's options, defaults filled in; field order is the order problems are reported in. */
const redriveShape = {
  stateMachineArns: list(
    text({
      pattern: STATE_MACHINE_ARN,
      patternHint: `a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME) whose NAME has ${NAME_RULE}`,
    }),
  )
    .default(() => [])
    .describe(
      'State machines in scope, by exact ARN. At least one ARN or name prefix is required.',
    ),
  stateMachineNamePrefixes: list(
    text({
      pattern: STATE_MACHINE_NAME,
      patternHint: `a state machine name prefix of ${NAME_RULE}`,
    }),
  )
    .default(() => [])
    .describe(
      "State machines in scope, by name prefix in the deployment's own account and region.",
    ),
  statuses: statusesSchema.prefault(() => [...DEFAULT_REDRIVE_POLICY.statuses]),
  maxRedrives: integer(0, 100)
    .default(DEFAULT_REDRIVE_POLICY.maxRedrives)
    .describe(POLICY_DOCS.maxRedrives),
  errors: section({
    deny: errorNamesSchema
      .default(() => [...DEFAULT_REDRIVE_POLICY.errors.deny])
      .describe(ERROR_DOCS.deny),
    allow: errorNamesSchema
      .default(() => [...DEFAULT_REDRIVE_POLICY.errors.allow])
      .describe(ERROR_DOCS.allow),
  })
    .prefault({})
    .describe(POLICY_DOCS.errors),
  delay: delaySchema(DEFAULT_REDRIVE_POLICY.delay),
  observeOnly: flag().default(DEFAULT_REDRIVE_POLICY.observeOnly).describe(POLICY_DOCS.observeOnly),
  breaker: breakerSchema,
  overrides: namedMap(
    z.string().regex(STATE_MACHINE_NAME),
    redrivePolicyOverrideSchema,
    `state machine names of ${NAME_RULE}`,
  )
    .default(() => ({}))
    .describe('Policy overrides keyed by state machine name; each names a state machine in scope.'),
  processing: processingSchema,
  sweeper: sweeperSchema,
  kmsKeyArns: list(
    text({
      pattern: KMS_KEY_ARN,
      patternHint: 'a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID), not an alias',
    }),
  )
    .default(() => [])
    .describe(
      'Customer managed KMS keys that encrypt scoped state machines: the redrive handler is granted kms:Decrypt on them, for the scoped state machines only.',
    ),
};

const SCOPE: readonly (readonly PropertyKey[])[] = [
  ['stateMachineArns'],
  ['stateMachineNamePrefixes'],
];
const POLICY: readonly (readonly PropertyKey[])[] = POLICY_KEYS.map((key) => [key]);

/** Auto-redrive of Step Functions executions. */
export const redriveSchema = section(redriveShape, REDRIVE_KEYS)
  // Rules across options: each runs only when the options it reads are clean.
  .superRefine(
    (redrive, ctx) => {
      if (redrive.stateMachineArns.length === 0 && redrive.stateMachineNamePrefixes.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['stateMachineArns'],
          message:
            'scope is empty: list at least one state machine ARN here or a name prefix in stateMachineNamePrefixes',
        });
      }
    },
    { when: cleanAt(...SCOPE) },
  )
  .superRefine(
    (redrive, ctx) => {
      if (typeof redrive.overrides !== 'object' || redrive.overrides === null) return;
      for (const name of Object.keys(redrive.overrides)) {
        if (!STATE_MACHINE_NAME.test(name)) continue;
        if (!isNameInScope(redrive, name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['overrides', name],
            message: 'names a state machine outside the configured scope',
            params: { moot: true },
          });
        }
      }
    },
    // A scope with a bad entry cannot say what is out of scope.
    { when: cleanAt(...SCOPE) },
  )
  .superRefine(
    (redrive, ctx) => {
      for (const [name, override] of Object.entries(redrive.overrides)) {
        checkCapAboveBase(applyOverride(redrive, override).delay, ctx, [
          'overrides',
          name,
          'delay',
        ]);
      }
    },
    { when: cleanAt(...POLICY, ['overrides']) },
  )
  .superRefine(
    (redrive, ctx) => {
      for (const [name, override] of Object.entries(redrive.overrides)) {
        // The section's own breaker was checked on its own; an override is checked merged over it.
        if (!override.breaker) continue;
        checkCooldownCap(breakerOptionsFor(redrive, name), ctx, ['overrides', name, 'breaker']);
      }
    },
    { when: cleanAt(['breaker'], ['overrides']) },
  )
  .transform(inOrder(REDRIVE_KEYS))
  .describe('Auto-redrive of Step Functions executions.');

/** Auto-redrive of Step Functions executions, with every default filled in. */
export type RedriveConfig = Immutable<z.output<typeof redriveSchema>>;

/** How failures of one state machine are redriven. */
export type RedrivePolicy = Pick<RedriveConfig, (typeof POLICY_KEYS)[number]>;

/** Which errors are worth a redrive. Entries are exact names or globs (`*`, `?`). */
export type ErrorPolicy = RedrivePolicy['errors'];

/**
 * Validates the `sweeper` options and fills in their defaults.
 *
 * @throws {ConfigError} naming the bad option, e.g. `redrive.sweeper.lookbackHours`
 * @example
 * ```ts
 * parseSweeper({ periodMinutes: 30 }, 'redrive.sweeper').lookbackHours; // 24
 * ```
 */
export function parseSweeper(value: unknown, field: string): SweeperOptions {
  return parseWith(sweeperSchema, value, field);
}

/**
 * Validates the `redrive` section and fills in every default.
 *
 * @throws {ConfigError} naming the bad field and what it allows; a
 *   {@link ConfigErrors} listing every problem when there are several
 * @example
 * ```ts
 * const redrive = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'], maxRedrives: 5 });
 * redrive.delay.baseSeconds; // 60
 * ```
 */
export function parseRedriveConfig(value: unknown, field = 'redrive'): RedriveConfig {
  return parseWith(redriveSchema, value, field);
}
