/**
 * A glob (`*`, `?`, `[…]` classes) as a PostgreSQL regular expression (ARE, for `~`) with the
 * meaning of SQLite GLOB and lib/glob.ts, which the rest of Cairn uses: case-sensitive, whole
 * string, classes read as SQLite's patternCompare reads them. Returns null for a pattern that
 * matches nothing (an unterminated class). Every character is written as a `\u`/`\U` escape
 * unless it is a letter or digit, so nothing in the glob is read as regex syntax.
 */
export function globToRegex(glob: string): string | null {
  const chars = [...glob];
  let out = '^';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      if (!out.endsWith('.*')) out += '.*';
    } else if (c === '?') out += '.';
    else if (c === '[') {
      const cls = classRegex(chars, i + 1);
      if (!cls) return null;
      out += cls.regex;
      i = cls.end;
    } else out += lit(c);
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

/** A `[…]` class starting after its `[` (see lib/glob.ts parseClass), as a bracket expression. */
function classRegex(chars: string[], from: number): { regex: string; end: number } | null {
  let i = from;
  const negate = chars[i] === '^';
  if (negate) i++;
  const parts: string[] = [];
  if (chars[i] === ']') {
    parts.push(lit(']'));
    i++;
  }
  let prior = ''; // SQLite's prior_c: the member a following '-' may start a range from
  for (; i < chars.length && chars[i] !== ']'; i++) {
    if (chars[i] === '-' && i + 1 < chars.length && chars[i + 1] !== ']' && prior !== '') {
      const hi = chars[++i];
      // An empty range (z-a) adds nothing; its first member counted on its own already.
      if ((prior.codePointAt(0) as number) <= (hi.codePointAt(0) as number))
        parts.push(`${lit(prior)}-${lit(hi)}`);
      prior = '';
    } else {
      parts.push(lit(chars[i]));
      prior = chars[i];
    }
  }
  if (i >= chars.length) return null;
  // An empty set: `[^]…` cannot occur (a leading ] is a member), but a class may be all
  // empty ranges' leftovers: there is always at least one member pushed here.
  return { regex: `[${negate ? '^' : ''}${parts.join('')}]`, end: i };
}

/**
 * SQL condition: `col` matches `glob`, as a regex match on a parameter `add` names (byte
 * order, case-sensitive); FALSE for a glob that matches nothing.
 */
export function globCondition(col: string, glob: string, add: (v: string) => string): string {
  const re = globToRegex(glob);
  return re === null ? 'FALSE' : `(${col} ~ ${add(re)})`;
}
