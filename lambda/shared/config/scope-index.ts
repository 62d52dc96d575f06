/**
 * The redrive scope as lookup tables, built once per config object, so that
 * a handler's scope check costs the same with 1,000 ARNs and 100 name
 * prefixes as with one.
 *
 * Hand-written on built-in `Set` and `Map` on purpose: the lookups are a few
 * lines, and a trie library (mnemonist and the like) would add to every
 * handler bundle and to its cold start, which the config's size must not.
 *
 * Prefixes are looked up by length, not walked in a trie: Step Functions names
 * have at most 80 characters, so a name is cut at each distinct prefix length
 * present (at most 80, usually a handful) and each cut is one hash lookup.
 * `String.prototype.slice` and `startsWith` both count UTF-16 code units, so
 * a cut matches exactly when `startsWith` would, unicode names included.
 */

/** The scope, as both config shapes carry it. */
export interface ScopeLists {
  readonly stateMachineArns: readonly string[];
  readonly stateMachineNamePrefixes: readonly string[];
}

/** Which scope entries cover a state machine: their positions in the config's lists. */
export interface CoveringEntries {
  /** Positions in `stateMachineArns` equal to the machine's ARN. */
  readonly arns: readonly number[];
  /** Positions in `stateMachineNamePrefixes` the machine's name starts with. */
  readonly prefixes: readonly number[];
}

/** The scope of one config as lookup tables. Build it with {@link scopeIndexOf}. */
export interface ScopeIndex {
  /** True when the ARN is one of `stateMachineArns`, exactly. */
  hasArn(stateMachineArn: string): boolean;
  /** True when the name is the name of one of `stateMachineArns` (any account or region). */
  hasArnNamed(stateMachineName: string): boolean;
  /** True when the name starts with one of `stateMachineNamePrefixes`. */
  hasNamePrefixOf(stateMachineName: string): boolean;
  /** The entries that cover a machine (for the live-since times). */
  coveringEntries(stateMachineArn: string, stateMachineName: string): CoveringEntries;
}

const STATE_MACHINE_PART = ':stateMachine:';

function positionsByValue(values: readonly string[]): Map<string, number[]> {
  const positions = new Map<string, number[]>();
  values.forEach((value, i) => {
    const existing = positions.get(value);
    if (existing) existing.push(i);
    else positions.set(value, [i]);
  });
  return positions;
}

/**
 * Every name `arn.endsWith(':stateMachine:' + name)` holds for: the text after
 * each `:stateMachine:` in the ARN (one, in a valid ARN).
 */
function namesOf(arn: string): string[] {
  const names: string[] = [];
  for (let at = arn.indexOf(STATE_MACHINE_PART); at !== -1; ) {
    names.push(arn.slice(at + STATE_MACHINE_PART.length));
    at = arn.indexOf(STATE_MACHINE_PART, at + 1);
  }
  return names;
}

function buildScopeIndex(scope: ScopeLists): ScopeIndex {
  const arnPositions = positionsByValue(scope.stateMachineArns);
  const arnNames = new Set(scope.stateMachineArns.flatMap(namesOf));
  const prefixPositions = positionsByValue(scope.stateMachineNamePrefixes);
  const prefixLengths = [...new Set(scope.stateMachineNamePrefixes.map((p) => p.length))].sort(
    (a, b) => a - b,
  );

  const hasNamePrefixOf = (name: string): boolean => {
    for (const length of prefixLengths) {
      if (length > name.length) return false;
      if (prefixPositions.has(name.slice(0, length))) return true;
    }
    return false;
  };

  return {
    hasArn: (arn) => arnPositions.has(arn),
    hasArnNamed: (name) => arnNames.has(name),
    hasNamePrefixOf,
    coveringEntries: (arn, name) => {
      const prefixes: number[] = [];
      for (const length of prefixLengths) {
        if (length > name.length) break;
        const at = prefixPositions.get(name.slice(0, length));
        if (at) prefixes.push(...at);
      }
      return { arns: arnPositions.get(arn) ?? [], prefixes };
    },
  };
}

const indexes = new WeakMap<ScopeLists, ScopeIndex>();

/**
 * The scope index of a config, built on the first call for that config object
 * and cached with it (a `WeakMap`: it goes when the config goes). Handlers
 * hold one config for the life of their execution environment, so an event
 * pays only the lookups. The config is treated as immutable: a list changed in
 * place after the first call is not seen.
 *
 * @example
 * ```ts
 * const scope = scopeIndexOf({ stateMachineArns: [], stateMachineNamePrefixes: ['orders-'] });
 * scope.hasNamePrefixOf('orders-nightly'); // true
 * ```
 */
export function scopeIndexOf(scope: ScopeLists): ScopeIndex {
  let index = indexes.get(scope);
  if (index === undefined) {
    index = buildScopeIndex(scope);
    indexes.set(scope, index);
  }
  return index;
}
