/**
 * The zod schemas of the building blocks every config section shares: the
 * delay policy of the backoff engine and how an event buffer is consumed.
 */
import type { z } from 'zod';
import { DEFAULT_PROCESSING, MAX_DELAY_SECONDS } from './common';
import { cleanAt, decimal, integer, section } from './zod-rules';

const delaySeconds = () => integer(0, MAX_DELAY_SECONDS);

const DELAY_DOCS = {
  baseSeconds: `Delay before the first attempt, in seconds (0-${MAX_DELAY_SECONDS}).`,
  factor: 'Multiplier applied per further attempt (1-10).',
  capSeconds: `Upper bound of any delay, in seconds (0-${MAX_DELAY_SECONDS}); at least baseSeconds.`,
  jitterRatio: 'Fraction (0-1) of the delay that jitter may take off; 0 disables jitter.',
} as const;

/** Delay values as written: every field optional, merged over a section's defaults. */
export const delayOverrideSchema = section({
  baseSeconds: delaySeconds().describe(DELAY_DOCS.baseSeconds).optional(),
  factor: decimal(1, 10).describe(DELAY_DOCS.factor).optional(),
  capSeconds: delaySeconds().describe(DELAY_DOCS.capSeconds).optional(),
  jitterRatio: decimal(0, 1).describe(DELAY_DOCS.jitterRatio).optional(),
}).describe('Any subset of the delay policy, merged over the policy it overrides.');

/** The values a complete delay policy has; each section has its own. */
export interface DelayDefaults {
  readonly baseSeconds: number;
  readonly factor: number;
  readonly capSeconds: number;
  readonly jitterRatio: number;
}

/**
 * A complete delay policy with a section's defaults: `min(cap, base × factor^attempt)`,
 * shortened by up to `jitterRatio` of itself so a storm of simultaneous failures spreads out.
 * `capSeconds` must be at least `baseSeconds`, defaults included.
 */
export function delaySchema(defaults: DelayDefaults) {
  return section({
    baseSeconds: delaySeconds().default(defaults.baseSeconds).describe(DELAY_DOCS.baseSeconds),
    factor: decimal(1, 10).default(defaults.factor).describe(DELAY_DOCS.factor),
    capSeconds: delaySeconds().default(defaults.capSeconds).describe(DELAY_DOCS.capSeconds),
    jitterRatio: decimal(0, 1).default(defaults.jitterRatio).describe(DELAY_DOCS.jitterRatio),
  })
    .superRefine(checkCapAboveBase, { when: cleanAt() })
    .prefault({})
    .describe(
      'How long to wait before an attempt: min(capSeconds, baseSeconds × factor^attempt), shortened by up to jitterRatio of itself.',
    );
}

/** How long to wait before an attempt, with every value filled in. */
export type DelayPolicy = z.output<ReturnType<typeof delaySchema>>;

/**
 * The cross-field rule of a delay: zod checks one value at a time.
 * Adds its problem at `capSeconds` of the delay checked.
 */
export function checkCapAboveBase(
  delay: { readonly baseSeconds: number; readonly capSeconds: number },
  ctx: z.RefinementCtx,
  path: readonly PropertyKey[] = [],
): void {
  if (delay.capSeconds < delay.baseSeconds) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'capSeconds'],
      message: `must be at least baseSeconds (${delay.baseSeconds}), got ${delay.capSeconds}`,
    });
  }
}

/** How the event buffer is consumed. */
export const processingSchema = section({
  batchSize: integer(1, 10)
    .default(DEFAULT_PROCESSING.batchSize)
    .describe('Messages per Lambda invocation (1-10).'),
  maxConcurrency: integer(2, 1000)
    .default(DEFAULT_PROCESSING.maxConcurrency)
    .describe(
      'Most concurrent Lambda invocations draining the buffer: the brake on a redrive storm (2-1000).',
    ),
  maxReceiveCount: integer(2, 100)
    .default(DEFAULT_PROCESSING.maxReceiveCount)
    .describe('Receives of one message before it is parked in the dead-letter queue (2-100).'),
})
  .prefault({})
  .describe('How the event buffer is consumed.');

/** How the event buffer is consumed, with every value filled in. */
export type ProcessingOptions = z.output<typeof processingSchema>;
