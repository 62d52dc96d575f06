/** Matching of error names against configured exact names and globs. */

const cache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let compiled = cache.get(glob);
  if (!compiled) {
    const body = glob
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    compiled = new RegExp(`^${body}$`);
    cache.set(glob, compiled);
  }
  return compiled;
}

/** The first entry (exact name or glob with `*` and `?`) that matches the error, if any. */
export function firstMatchingEntry(
  errorName: string,
  entries: readonly string[],
): string | undefined {
  return entries.find((entry) => entry === errorName || globToRegExp(entry).test(errorName));
}
