/**
 * Field-by-field checks that name the offending field and say what is allowed.
 *
 * Used for both the synth-time config and the runtime events, each with its own
 * error type, so a bad value is reported the same way wherever it comes from.
 */

/** Builds the error thrown for a bad field. */
export type FieldErrorFactory = (field: string, problem: string) => Error;

/** A plain JSON object. */
export type JsonObject = Record<string, unknown>;

/** Describes a value for an error message without echoing large or sensitive content. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export interface StringRules {
  readonly pattern?: RegExp;
  /** Human wording of the pattern, for the error message. */
  readonly patternHint?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface NumberRules {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

/** Typed readers over unknown JSON that throw the configured error on the first bad field. */
export class FieldChecker {
  public constructor(private readonly fail: FieldErrorFactory) {}

  public object(value: unknown, field: string): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(field, `must be an object, got ${describeValue(value)}`);
    }
    return value as JsonObject;
  }

  public string(value: unknown, field: string, rules: StringRules = {}): string {
    if (typeof value !== 'string') {
      throw this.fail(field, `must be a string, got ${describeValue(value)}`);
    }
    const { minLength = 1, maxLength, pattern, patternHint } = rules;
    if (value.length < minLength) {
      throw this.fail(field, `must have at least ${minLength} character(s)`);
    }
    if (maxLength !== undefined && value.length > maxLength) {
      throw this.fail(field, `must have at most ${maxLength} characters, got ${value.length}`);
    }
    if (pattern && !pattern.test(value)) {
      throw this.fail(
        field,
        `must be ${patternHint ?? `a string matching ${pattern}`}, got ${describeValue(value)}`,
      );
    }
    return value;
  }

  public number(value: unknown, field: string, rules: NumberRules = {}): number {
    const { min, max, integer = false } = rules;
    const kind = integer ? 'an integer' : 'a number';
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value))
    ) {
      throw this.fail(field, `must be ${kind}, got ${describeValue(value)}`);
    }
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      throw this.fail(field, `must be ${kind} from ${min ?? '-∞'} to ${max ?? '∞'}, got ${value}`);
    }
    return value;
  }

  public boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') {
      throw this.fail(field, `must be true or false, got ${describeValue(value)}`);
    }
    return value;
  }

  public oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
      throw this.fail(field, `must be one of ${allowed.join(', ')}, got ${describeValue(value)}`);
    }
    return value as T;
  }

  public array<T>(value: unknown, field: string, item: (v: unknown, f: string) => T): T[] {
    if (!Array.isArray(value)) {
      throw this.fail(field, `must be an array, got ${describeValue(value)}`);
    }
    return value.map((v, i) => item(v, `${field}[${i}]`));
  }

  /** Rejects keys the schema does not know, so a typo never silently falls back to a default. */
  public onlyKeys(value: JsonObject, field: string, known: readonly string[]): void {
    const [first] = this.unknownKeys(value, field, known);
    if (first) throw first;
  }

  /** One error per key the schema does not know, for callers that report every problem. */
  public unknownKeys(value: JsonObject, field: string, known: readonly string[]): Error[] {
    return Object.keys(value)
      .filter((key) => !known.includes(key))
      .map((key) =>
        this.fail(`${field}.${key}`, `is not a known option; known options: ${known.join(', ')}`),
      );
  }
}
