/**
 * Globs (`*`, `?`, `[…]` classes) as PostgreSQL regular expressions (AREs, for `~`) with the
 * meaning of SQLite GLOB and lib/glob.ts, which the rest of Cairn uses: case-sensitive, whole
 * string, classes read as SQLite's patternCompare reads them. Every character is written as a
 * `\u`/`\U` escape unless it is a letter or digit, so nothing in a glob is read as regex syntax.
 */

/** PostgreSQL TEXT cannot hold U+0000: {@link pgText} writes it as these two characters. */
const NUL_AS = '\u0001\u0001';
/** …and U+0001 itself as these, so the encoding stays one-to-one. */
const SOH_AS = '\u0001\u0002';

/**
 * Text as stored in a PostgreSQL TEXT column: U+0000 (which TEXT refuses) and U+0001 as
 * two-character escapes. Equality and byte order are kept (every other character's UTF-8
 * bytes are above 0x01), so comparisons of encoded values give the answers of the originals.
 */
export function pgText(s: string): string {
  return /[\u0000\u0001]/.test(s)
    ? s.replace(/[\u0000\u0001]/g, (c) => (c === '\u0000' ? NUL_AS : SOH_AS))
    : s;
}

/** The text {@link pgText} was given. */
export function fromPgText(s: string): string {
  return s.includes('\u0001')
    ? s.replace(/\u0001([\u0001\u0002])/g, (_, c: string) => (c === '\u0001' ? '\u0000' : '\u0001'))
    : s;
}

/** One original character of {@link pgText}'s output, as a regex. */
const ANY = '(?:\\u0001.|[^\\u0001])';

/**
 * `glob` as a regex. Returns null for a pattern that matches nothing (an unterminated class).
 * With `encoded`, the regex reads text written by {@link pgText} (an escape pair is one
 * character to `?`, `*` and classes).
 */
export function globToRegex(glob: string, encoded = false): string | null {
  const chars = [...glob];
  let out = '^';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      const star = encoded ? `${ANY}*` : '.*';
      if (!out.endsWith(star)) out += star;
    } else if (c === '?') out += encoded ? ANY : '.';
    else if (c === '[') {
      const cls = parseClass(chars, i + 1);
      if (!cls) return null;
      out += encoded ? encodedClass(cls) : `[${cls.negate ? '^' : ''}${cls.parts.join('')}]`;
      i = cls.end;
    } else out += encoded ? [...pgText(c)].map(lit).join('') : lit(c);
  }
  return `${out}$`;
}

/** One character as regex text. */
function lit(c: string): string {
  if (/^[A-Za-z0-9]$/.test(c)) return c;
  const cp = c.codePointAt(0) as number;
  return cp <= 0xffff
    ? `\\u${cp.toString(16).padStart(4, '0')}`
    : `\\U${cp.toString(16).padStart(8, '0')}`;
}

interface Class {
  negate: boolean;
  /** Bracket expression members (`\uXXXX` or `\uXXXX-\uYYYY`). */
  parts: string[];
  /** Whether the class matches a code point. */
  has: (cp: number) => boolean;
  /** Index of the closing `]`. */
  end: number;
}

/** A `[…]` class starting after its `[`, read as lib/glob.ts parseClass reads it. */
function parseClass(chars: string[], from: number): Class | null {
  let i = from;
  const negate = chars[i] === '^';
  if (negate) i++;
  const parts: string[] = [];
  const ranges: [number, number][] = [];
  const add = (lo: string, hi = lo) => {
    const [a, b] = [lo.codePointAt(0) as number, hi.codePointAt(0) as number];
    // An empty range (z-a) adds nothing; its first member counted on its own already.
    if (a > b) return;
    ranges.push([a, b]);
    parts.push(a === b ? lit(lo) : `${lit(lo)}-${lit(hi)}`);
  };
  if (chars[i] === ']') {
    add(']');
    i++;
  }
  let prior = ''; // SQLite's prior_c: the member a following '-' may start a range from
  for (; i < chars.length && chars[i] !== ']'; i++) {
    if (chars[i] === '-' && i + 1 < chars.length && chars[i + 1] !== ']' && prior !== '') {
      add(prior, chars[++i]);
      prior = '';
    } else {
      add(chars[i]);
      prior = chars[i];
    }
  }
  if (i >= chars.length) return null;
  const has = (cp: number) => ranges.some(([a, b]) => cp >= a && cp <= b) !== negate;
  return { negate, parts, has, end: i };
}

/** A class over text written by pgText: escape pairs as the characters they stand for. */
function encodedClass(cls: Class): string {
  const alts: string[] = [];
  if (cls.has(0)) alts.push('\\u0001\\u0001');
  if (cls.has(1)) alts.push('\\u0001\\u0002');
  // Any other character: never the first half of an escape pair.
  if (cls.negate || cls.parts.length > 0)
    alts.push(`(?!\\u0001)[${cls.negate ? '^' : ''}${cls.parts.join('')}]`);
  // (Never empty: a class has a member. \u0001\u0003 occurs in no encoded text.)
  return alts.length > 0 ? `(?:${alts.join('|')})` : '\\u0001\\u0003';
}

/**
 * SQL condition: `col` matches `glob`, as a regex match on a parameter `add` names (byte
 * order, case-sensitive); FALSE for a glob that matches nothing. `encoded`: see globToRegex.
 */
export function globCondition(
  col: string,
  glob: string,
  add: (v: string) => string,
  encoded = false,
): string {
  const re = globToRegex(glob, encoded);
  return re === null ? 'FALSE' : `(${col} ~ ${add(re)})`;
}
