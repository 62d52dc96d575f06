/**
 * State machine and execution names at the edges of Step Functions' naming
 * rule, shared by the tests of everything that checks a name.
 */

/** Names Step Functions allows that Autoheal used to refuse (or that sit at the edges). */
export const VALID_NAMES = [
  { label: 'a dot', name: 'orders-eu.v2' },
  { label: 'an at sign', name: 'a@b' },
  { label: 'plus, equals and bang', name: 'x+y=z!' },
  { label: 'a non-ASCII letter', name: 'Bestellungen-ü' },
  { label: 'CJK letters', name: '注文処理' },
  { label: '80 characters', name: 'n'.repeat(80) },
  { label: '80 letters outside the BMP (counted as characters)', name: '𝒜'.repeat(80) },
  { label: 'one character', name: 'a' },
  { label: 'parentheses and an apostrophe', name: "orders(eu)'s" },
] as const;

const EXCLUDED_CHARACTERS = [...'<>{}[]?*"#%\\^|~`$&,;:/'];

/** Names Step Functions refuses. */
export const INVALID_NAMES = [
  { label: 'the empty name', name: '' },
  { label: '81 characters', name: 'n'.repeat(81) },
  { label: 'a space', name: 'orders eu' },
  { label: 'a tab', name: 'orders\teu' },
  { label: 'a newline', name: 'orders\neu' },
  { label: 'a no-break space (Unicode white space)', name: 'orders\u00a0eu' },
  { label: 'an ideographic space (Unicode white space)', name: 'orders\u3000eu' },
  { label: 'a line separator (Unicode white space)', name: 'orders\u2028eu' },
  { label: 'NUL (U+0000)', name: 'orders\u0000eu' },
  { label: 'U+001F', name: 'orders\u001feu' },
  { label: 'DEL (U+007F)', name: 'orders\u007feu' },
  { label: 'NEL (U+0085)', name: 'orders\u0085eu' },
  { label: 'U+009F', name: 'orders\u009feu' },
  ...EXCLUDED_CHARACTERS.map((c) => ({
    label: `the excluded character ${c}`,
    name: `orders${c}eu`,
  })),
];
