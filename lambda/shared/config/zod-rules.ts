/**
 * The zod building blocks of the config schema, each carrying today's
 * one-line problem text ("must be an integer from 1 to 10, got 11") as its
 * issue message, so {@link configErrorOf} only has to name the field.
 *
 * Only the synth side (the CDK app, tests, the JSON Schema script) imports
 * zod: handlers read the config the construct already normalised (see
 * `lambda/shared/normalised-config.ts`), which keeps zod out of the bundles.
 */
import { z } from 'zod';
import { describeValue } from '../fields';

/** The text of a problem, from zod's issue (its `input` is the offending value). */
type Problem = (issue: { readonly input?: unknown }) => string;

const got = (issue: { readonly input?: unknown }): string => describeValue(issue.input);

/**
 * An integer in `[min, max]`.
 *
 * @example
 * ```ts
 * integer(1, 10).default(5)
 * ```
 */
export function integer(min: number, max: number) {
  const kind: Problem = (issue) => `must be an integer, got ${got(issue)}`;
  const range: Problem = (issue) =>
    `must be an integer from ${min} to ${max}, got ${String(issue.input)}`;
  return z
    .number({ error: kind })
    .int({ error: kind })
    .min(min, { error: range })
    .max(max, { error: range });
}

/** A finite number in `[min, max]`. */
export function decimal(min: number, max: number) {
  const range: Problem = (issue) =>
    `must be a number from ${min} to ${max}, got ${String(issue.input)}`;
  return z
    .number({ error: (issue) => `must be a number, got ${got(issue)}` })
    .min(min, { error: range })
    .max(max, { error: range });
}

/** `true` or `false`. */
export function flag() {
  return z.boolean({ error: (issue) => `must be true or false, got ${got(issue)}` });
}

/** How a string is checked, in the order the checks report. */
export interface TextRules {
  /** @default 1 */
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  /** The pattern in words, for the message: `must be HINT, got "x"`. */
  readonly patternHint?: string;
}

/** A string: its length, then its pattern. */
export function text(rules: TextRules = {}) {
  const { minLength = 1, maxLength, pattern, patternHint } = rules;
  let schema = z
    .string({ error: (issue) => `must be a string, got ${got(issue)}` })
    .min(minLength, { error: `must have at least ${minLength} character(s)` });
  if (maxLength !== undefined) {
    schema = schema.max(maxLength, {
      error: (issue) =>
        `must have at most ${maxLength} characters, got ${String((issue.input as string).length)}`,
    });
  }
  if (pattern) {
    schema = schema.regex(pattern, {
      error: (issue) =>
        `must be ${patternHint ?? `a string matching ${pattern}`}, got ${got(issue)}`,
    });
  }
  return schema;
}

/** One of a few strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => `must be one of ${values.join(', ')}, got ${got(issue)}`,
  });
}

/** A JSON array of `item`s; each bad item is its own problem (`field[i]`). */
export function list<T extends z.ZodType>(item: T) {
  return z.array(item, { error: (issue) => `must be an array, got ${got(issue)}` });
}

/**
 * A JSON object that knows its keys: an unknown key (a typo) is a problem
 * instead of silently falling back to a default.
 *
 * @param known the options named in the message, in the order users read them
 * @default known the shape's keys
 */
export function section<S extends z.ZodRawShape>(
  shape: S,
  known: readonly string[] = Object.keys(shape),
) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `is not a known option; known options: ${known.join(', ')}`
        : `must be an object, got ${got(issue)}`,
  });
}

/** A JSON object keyed by names (`keyRule` in words in the message) of `value`s. */
export function namedMap<K extends z.ZodType<string>, V extends z.ZodType>(
  key: K,
  value: V,
  keyRule: string,
) {
  return z.record(key, value, {
    error: (issue) =>
      issue.code === 'invalid_key'
        ? `keys must be ${keyRule}`
        : `must be an object, got ${got(issue)}`,
  });
}

/**
 * Runs a check that depends on other options only when those were read
 * without a problem (a problem in the object's own unknown keys does not
 * count), so a user is not told twice about one mistake.
 *
 * @param paths the options the check reads, relative to the object checked; none means all of them
 * @example
 * ```ts
 * schema.superRefine(checkSweep, { when: cleanAt(['lookbackHours'], ['periodMinutes']) })
 * ```
 */
export function cleanAt(...paths: readonly (readonly PropertyKey[])[]) {
  return (payload: z.core.ParsePayload): boolean =>
    typeof payload.value === 'object' &&
    payload.value !== null &&
    !payload.issues.some(
      (issue) =>
        !(issue.code === 'unrecognized_keys' && (issue.path ?? []).length === 0) &&
        (paths.length === 0 ||
          paths.some((path) => path.every((key, i) => issue.path?.[i] === key))),
    );
}

/**
 * Writes an object's keys in the given order (any others after them): the
 * order the JSON handed to the handlers has always had, while the schema
 * lists options in the order their problems are reported.
 *
 * @example
 * ```ts
 * section({ b: flag(), a: flag() }).transform(inOrder(['a', 'b']))
 * ```
 */
export function inOrder<T extends object>(keys: readonly (keyof T & string)[]) {
  return (value: T): T => {
    const ordered: Record<string, unknown> = {};
    for (const key of keys) if (key in value) ordered[key] = value[key];
    return Object.assign(ordered, value) as T;
  };
}
