/**
 * Splitting a long list of values (flow names, ARNs) into as few consecutive
 * slices as possible, each rendering to a document within a size limit: the
 * event pattern of an EventBridge rule, an IAM policy, a schedule's input.
 *
 * Hand-written: neither CDK nor a library sizes these documents; greedy
 * packing in list order keeps shards stable when values are appended.
 */

import { budgetedLength, budgetedText, TEMPLATE_LIMITS, TOKEN_BUDGET } from './template-limits';

export interface ShardOptions<T> {
  /** Renders the document of one slice (a pattern, a policy document, an input). */
  readonly render: (slice: string[]) => T;
  /** The most characters a rendered slice may have. */
  readonly maxChars: number;
  /**
   * Characters a CDK token inside a value is counted as (its length is unknown at synth).
   * @default 256 (TOKEN_BUDGET.other)
   */
  readonly tokenChars?: number;
  /** Names the documents in the error thrown when one value alone does not fit, e.g. `an event pattern`. */
  readonly what: string;
  /**
   * Stop after this many slices: the values past them are left out (greedy
   * packing fills a slice the same whatever follows it).
   * @default - every value is placed
   */
  readonly maxSlices?: number;
}

/**
 * The values in consecutive slices, each rendering within `maxChars` with
 * tokens at their budgeted length; one slice when everything fits. Throws
 * when a single value cannot fit.
 *
 * @example
 * const slices = shardValues(flowNames, {
 *   render: (names) => ({ detail: { 'flow-name': names } }),
 *   maxChars: TEMPLATE_LIMITS.eventPatternChars,
 *   what: 'an event pattern',
 * });
 */
export function shardValues<T>(values: readonly string[], options: ShardOptions<T>): string[][] {
  const tokenChars = options.tokenChars ?? TOKEN_BUDGET.other;
  const measure = (slice: string[]) =>
    budgetedLength(options.render(slice.map((value) => budgetedText(value, tokenChars))));
  const slices: string[][] = [];
  let current: string[] = [];
  for (const value of values) {
    const candidate = [...current, value];
    if (measure(candidate) <= options.maxChars) {
      current = candidate;
      continue;
    }
    if (current.length === 0 || measure([value]) > options.maxChars) {
      throw new Error(
        `${value.slice(0, 80)} alone makes ${options.what} of ${measure([value])} characters, over the limit of ${options.maxChars}`,
      );
    }
    slices.push(current);
    if (slices.length === options.maxSlices) return slices;
    current = [value];
  }
  if (current.length > 0 || slices.length === 0) slices.push(current);
  return slices;
}

/** {@link shardValues} for EventBridge event patterns (2,048 characters each). */
export function shardEventPattern<T>(
  values: readonly string[],
  render: (slice: string[]) => T,
  tokenChars?: number,
): string[][] {
  return shardValues(values, {
    render,
    maxChars: TEMPLATE_LIMITS.eventPatternChars,
    tokenChars,
    what: 'an event pattern',
  });
}

/**
 * Construct id of shard `index` (0-based) of `baseId`: the first keeps
 * `baseId`, so a scope that fits in one shard keeps its logical id.
 */
export function shardId(baseId: string, index: number, separator = ''): string {
  return index === 0 ? baseId : `${baseId}${separator}${index + 1}`;
}
