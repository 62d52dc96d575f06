/**
 * Turns zod's issues into today's config errors: one line per problem, each
 * naming its field (`redrive.sweeper.lookbackHours: must ...`).
 *
 * zod gives the path and (through the rules in `zod-rules.ts`) the problem
 * text. Hand-written here is only what zod does not do: writing a path as a
 * dotted field with `[i]` indexes, one problem per unknown key (zod reports
 * the keys of an object in one issue, after its other issues; today's order
 * puts them first), and one problem per field (zod may report several checks
 * of one value).
 */
import type { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors';

type Issue = z.core.$ZodIssue;

/** `redrive` + `['overrides', 'orders', 'delay']` → `redrive.overrides.orders.delay`; `[0]` for indexes. */
export function fieldOf(root: string, path: readonly PropertyKey[]): string {
  let field = root;
  for (const key of path) {
    field =
      typeof key === 'number'
        ? `${field}[${key}]`
        : field === ''
          ? String(key)
          : `${field}.${String(key)}`;
  }
  return field;
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.every((key, i) => path[i] === key);
}

/** zod puts an object's unknown keys after its other issues; they go before them, as they read first. */
function unknownKeysFirst(issues: readonly Issue[]): Issue[] {
  const ordered = [...issues];
  for (const issue of issues.filter((i) => i.code === 'unrecognized_keys')) {
    const from = ordered.indexOf(issue);
    const to = ordered.findIndex((other) => startsWith(other.path, issue.path));
    if (to < from) {
      ordered.splice(from, 1);
      ordered.splice(to, 0, issue);
    }
  }
  return ordered;
}

/**
 * The config errors of a failed parse: one {@link ConfigError}, or a
 * {@link ConfigErrors} when there are several.
 *
 * @param root the field the parsed value sits at (`redrive`); `''` when the
 *   path's first key is the field's first word (the whole config, whose own
 *   problems are reported at `rootName`)
 * @param rootName the field of a problem with the whole value
 * @default rootName root
 * @example
 * ```ts
 * const result = redriveSchema.safeParse(raw);
 * if (!result.success) throw configErrorOf(result.error.issues, 'redrive');
 * ```
 */
export function configErrorOf(
  issues: readonly Issue[],
  root: string,
  rootName: string = root,
): ConfigError {
  const errors: ConfigError[] = [];
  const reported = new Set<string>();
  /** Paths whose problem makes every problem below it moot (a bad override name). */
  const moot = issues
    .filter(
      (issue) =>
        issue.code === 'invalid_key' || (issue.code === 'custom' && issue.params?.moot === true),
    )
    .map((issue) => issue.path);
  for (const issue of unknownKeysFirst(issues)) {
    if (moot.some((path) => path.length < issue.path.length && startsWith(issue.path, path)))
      continue;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push(
          new ConfigError(
            fieldOf(issue.path.length === 0 ? rootName : root, [...issue.path, key]),
            issue.message,
          ),
        );
      }
      continue;
    }
    const field = issue.path.length === 0 ? rootName : fieldOf(root, issue.path);
    if (reported.has(field)) continue;
    reported.add(field);
    errors.push(new ConfigError(field, issue.message));
  }
  return errors.length === 1 ? errors[0] : new ConfigErrors(errors);
}

/**
 * Parses `value` with `schema`, throwing the config errors of every problem.
 *
 * @example
 * ```ts
 * const sweeper = parseWith(sweeperSchema, raw, 'redrive.sweeper');
 * ```
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  root: string,
  rootName: string = root,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw configErrorOf(result.error.issues, root, rootName);
  return result.data;
}
