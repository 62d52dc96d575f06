/**
 * Building blocks shared by every section of the Autoheal config: the field
 * checker that raises {@link ConfigError}, the delay policy of the shared
 * backoff engine, and how an event buffer is consumed.
 */
import { ConfigError, ConfigErrors } from '../errors';
import { FieldChecker, type JsonObject } from '../fields';

/** Reads config fields, raising {@link ConfigError} naming the field. */
export const check = new FieldChecker((field, problem) => new ConfigError(field, problem));

/**
 * Collects the problems of a config section, so synth reports every independent
 * problem at once instead of only the first.
 *
 * Each option is read inside {@link ConfigProblems.read}: its ConfigError (or a
 * nested section's {@link ConfigErrors}) is recorded and a fallback stands in,
 * so the parse goes on. A check that depends on other options runs only when
 * those were read without a problem. {@link ConfigProblems.throwIfAny} ends the
 * parse: one problem throws that ConfigError, several throw a ConfigErrors.
 *
 * A new option plugs in by wrapping its reader, which may throw:
 * `problems.read(DEFAULT, () => parseMyOption(raw.myOption, field + ".myOption"))`.
 * Hand-written (not zod) to keep every message and the handlers' cold start as they are.
 *
 * @example
 * ```ts
 * const problems = new ConfigProblems();
 * const factor = problems.read(4, () => check.number(raw.factor, 'delay.factor', { min: 1 }));
 * problems.throwIfAny();
 * ```
 */
export class ConfigProblems {
  private readonly found: ConfigError[] = [];

  /** Problems recorded so far: compare before and after reading a group of options. */
  public get count(): number {
    return this.found.length;
  }

  /** Reads one option; on a ConfigError records it and returns the fallback. */
  public read<T>(fallback: T, readOption: () => T): T {
    try {
      return readOption();
    } catch (error) {
      this.record(error);
      return fallback;
    }
  }

  /** Records a ConfigError (every problem of a ConfigErrors); anything else is a bug and is rethrown. */
  public record(error: unknown): void {
    if (error instanceof ConfigErrors) this.found.push(...error.errors);
    else if (error instanceof ConfigError) this.found.push(error);
    else throw error;
  }

  /** Records one problem per key the section does not know. */
  public onlyKeys(value: JsonObject, field: string, known: readonly string[]): void {
    for (const error of check.unknownKeys(value, field, known)) this.record(error);
  }

  /** Reads a list, recording a problem per bad item; the good items are returned. */
  public array<T>(value: unknown, field: string, item: (v: unknown, f: string) => T): T[] {
    if (!Array.isArray(value)) {
      return this.read([], () => check.array(value, field, item));
    }
    const items: T[] = [];
    value.forEach((v, i) => {
      this.read(undefined, () => {
        items.push(item(v, `${field}[${i}]`));
      });
    });
    return items;
  }

  /** Ends the parse: throws the one problem found, or all of them as a {@link ConfigErrors}. */
  public throwIfAny(): void {
    if (this.found.length === 1) throw this.found[0];
    if (this.found.length > 1) throw new ConfigErrors(this.found);
  }
}

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
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, field, ['baseSeconds', 'factor', 'capSeconds', 'jitterRatio']);
  const seconds = { min: 0, max: MAX_DELAY_SECONDS, integer: true };
  const option = <K extends keyof DelayPolicy>(
    key: K,
    read: (v: unknown, f: string) => DelayPolicy[K],
  ): Partial<DelayPolicy> =>
    raw[key] === undefined
      ? {}
      : problems.read({}, () => ({ [key]: read(raw[key], `${field}.${key}`) }));
  const delay: Partial<DelayPolicy> = {
    ...option('baseSeconds', (v, f) => check.number(v, f, seconds)),
    ...option('factor', (v, f) => check.number(v, f, { min: 1, max: 10 })),
    ...option('capSeconds', (v, f) => check.number(v, f, seconds)),
    ...option('jitterRatio', (v, f) => check.number(v, f, { min: 0, max: 1 })),
  };
  problems.throwIfAny();
  return delay;
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
  const problems = new ConfigProblems();
  problems.onlyKeys(raw, field, ['batchSize', 'maxConcurrency', 'maxReceiveCount']);
  const int = (key: keyof ProcessingOptions, min: number, max: number): number =>
    raw[key] === undefined
      ? DEFAULT_PROCESSING[key]
      : problems.read(DEFAULT_PROCESSING[key], () =>
          check.number(raw[key], `${field}.${key}`, { min, max, integer: true }),
        );
  const processing: ProcessingOptions = {
    batchSize: int('batchSize', 1, 10),
    maxConcurrency: int('maxConcurrency', 2, 1000),
    maxReceiveCount: int('maxReceiveCount', 2, 100),
  };
  problems.throwIfAny();
  return processing;
}
