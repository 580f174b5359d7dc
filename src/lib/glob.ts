/**
 * Compiles a glob (`*` any run of characters, `?` one character, `[abc]`/`[a-z]`/`[^a]` a
 * class; everything else literal) to an anchored RegExp, with the same meaning as SQLite GLOB.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  const chars = [...glob];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const cls = parseClass(chars, i + 1);
      // An unterminated class matches nothing in SQLite, so the whole pattern never matches.
      if (!cls) return /(?!)/u;
      re += cls.re;
      i = cls.end;
    } else re += escapeChar(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

/**
 * A `[…]` class starting after its `[`, as SQLite reads it: `^` first negates; a `]` right
 * after `[` or `[^` is a member; `a-z` is a range unless `-` is first or last; a reversed range
 * matches nothing (where a raw RegExp range would throw). Null if there is no closing `]`.
 */
function parseClass(chars: string[], from: number): { re: string; end: number } | null {
  let i = from;
  const negate = chars[i] === '^';
  if (negate) i++;
  const members: string[] = [];
  let first = true;
  for (; i < chars.length; i++) {
    const c = chars[i];
    if (c === ']' && !first) break;
    first = false;
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      const hi = chars[i + 2];
      if ((c.codePointAt(0) as number) <= (hi.codePointAt(0) as number))
        members.push(`${escapeChar(c)}-${escapeChar(hi)}`);
      i += 2;
    } else members.push(escapeChar(c));
  }
  if (i >= chars.length) return null;
  if (members.length === 0) return { re: negate ? '[\\s\\S]' : '(?!)', end: i };
  return { re: `[${negate ? '^' : ''}${members.join('')}]`, end: i };
}

/** One character as a RegExp literal (code point escape: safe inside and outside classes). */
function escapeChar(c: string): string {
  return /[A-Za-z0-9_ ]/.test(c) ? c : `\\u{${(c.codePointAt(0) as number).toString(16)}}`;
}
