/**
 * Building blocks shared by every section of the Autoheal config, free of zod
 * so handlers may import them: the field checker that raises
 * {@link ConfigError} (for checks outside the JSON config, such as construct
 * props), the problem collector, and the defaults the schemas fill in.
 * The schemas themselves are in `common-schema.ts`.
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
 * The JSON config is checked by zod (`*-schema.ts`); this collects the problems
 * of checks made outside it, such as construct props.
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

export type { DelayPolicy, ProcessingOptions } from './common-schema';

/** How the event buffer is consumed unless the config says otherwise. */
export const DEFAULT_PROCESSING = {
  batchSize: 10,
  maxConcurrency: 5,
  maxReceiveCount: 5,
};

/** The longest delay (`baseSeconds`, `capSeconds`) a delay policy may set: 12 hours. */
export const MAX_DELAY_SECONDS = 12 * 3600;

/**
 * A parsed config as handlers and constructs see it: read-only all the way
 * down (zod's output types are mutable; nothing changes a parsed config).
 */
export type Immutable<T> = T extends readonly (infer U)[]
  ? readonly Immutable<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Immutable<T[K]> }
    : T;
