/**
 * Building blocks shared by every section of the Autoheal config: the field
 * checker that raises {@link ConfigError}, the delay policy of the shared
 * backoff engine, and how an event buffer is consumed.
 */
import { ConfigError } from '../errors';
import { FieldChecker } from '../fields';

/** Reads config fields, raising {@link ConfigError} naming the field. */
export const check = new FieldChecker((field, problem) => new ConfigError(field, problem));

/**
 * How long to wait before an attempt: `min(cap, base × factor^attempt)`, shortened
 * by up to `jitterRatio` of itself so a storm of simultaneous failures spreads out.
 */
export interface DelayPolicy {
  /**
   * Delay before the first attempt, in seconds.
   * @default 60
   */
  readonly baseSeconds: number;
  /**
   * Multiplier applied per further attempt.
   * @default 4
   */
  readonly factor: number;
  /**
   * Upper bound of any delay, in seconds.
   * @default 3600
   */
  readonly capSeconds: number;
  /**
   * Fraction (0-1) of the delay that jitter may take off; 0 disables jitter.
   * @default 0.2
   */
  readonly jitterRatio: number;
}

/** How the event buffer is consumed. */
export interface ProcessingOptions {
  /**
   * Messages per Lambda invocation.
   * @default 10
   */
  readonly batchSize: number;
  /**
   * Most concurrent Lambda invocations draining the buffer: the brake on a redrive storm.
   * @default 5
   */
  readonly maxConcurrency: number;
  /**
   * Receives of one message before it is parked in the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount: number;
}

export const DEFAULT_PROCESSING: ProcessingOptions = {
  batchSize: 10,
  maxConcurrency: 5,
  maxReceiveCount: 5,
};

/** The longest delay (`baseSeconds`, `capSeconds`) a delay policy may set: 12 hours. */
export const MAX_DELAY_SECONDS = 12 * 3600;

export function parseDelay(value: unknown, field: string): Partial<DelayPolicy> {
  const raw = check.object(value, field);
  check.onlyKeys(raw, field, ['baseSeconds', 'factor', 'capSeconds', 'jitterRatio']);
  const seconds = { min: 0, max: MAX_DELAY_SECONDS, integer: true };
  return {
    ...(raw.baseSeconds !== undefined && {
      baseSeconds: check.number(raw.baseSeconds, `${field}.baseSeconds`, seconds),
    }),
    ...(raw.factor !== undefined && {
      factor: check.number(raw.factor, `${field}.factor`, { min: 1, max: 10 }),
    }),
    ...(raw.capSeconds !== undefined && {
      capSeconds: check.number(raw.capSeconds, `${field}.capSeconds`, seconds),
    }),
    ...(raw.jitterRatio !== undefined && {
      jitterRatio: check.number(raw.jitterRatio, `${field}.jitterRatio`, { min: 0, max: 1 }),
    }),
  };
}

export function validateDelay(delay: DelayPolicy, field: string): void {
  if (delay.capSeconds < delay.baseSeconds) {
    throw new ConfigError(
      `${field}.capSeconds`,
      `must be at least baseSeconds (${delay.baseSeconds}), got ${delay.capSeconds}`,
    );
  }
}

export function parseProcessing(value: unknown, field: string): ProcessingOptions {
  if (value === undefined) return DEFAULT_PROCESSING;
  const raw = check.object(value, field);
  check.onlyKeys(raw, field, ['batchSize', 'maxConcurrency', 'maxReceiveCount']);
  return {
    batchSize:
      raw.batchSize === undefined
        ? DEFAULT_PROCESSING.batchSize
        : check.number(raw.batchSize, `${field}.batchSize`, { min: 1, max: 10, integer: true }),
    maxConcurrency:
      raw.maxConcurrency === undefined
        ? DEFAULT_PROCESSING.maxConcurrency
        : check.number(raw.maxConcurrency, `${field}.maxConcurrency`, {
            min: 2,
            max: 1000,
            integer: true,
          }),
    maxReceiveCount:
      raw.maxReceiveCount === undefined
        ? DEFAULT_PROCESSING.maxReceiveCount
        : check.number(raw.maxReceiveCount, `${field}.maxReceiveCount`, {
            min: 2,
            max: 100,
            integer: true,
          }),
  };
}
