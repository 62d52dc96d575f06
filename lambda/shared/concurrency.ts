/** Bounded concurrency for independent async work, such as the flows of one tick. */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, and returns
 * the results in the order of `items` (not the order they finished in).
 *
 * If a call rejects, no further item is started; the calls already in flight
 * are awaited, then the first rejection is thrown. Callers that want every
 * item handled whatever happens catch inside `fn`.
 *
 * @param limit the most calls in flight at once: a positive integer
 * @example
 * ```ts
 * const results = await mapWithConcurrency(flows, 5, (flow) => start(flow));
 * ```
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
