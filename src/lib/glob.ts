/** One glob element: `*`, or a test of exactly one character. */
type Token = { star: true } | { star: false; test: (c: string) => boolean };

/**
 * Compiles a glob (`*` any run of characters, `?` one character, `[abc]`/`[a-z]`/`[^a]` a
 * class; everything else literal) to a matcher of whole strings, with the same meaning as
 * SQLite GLOB. Matching never backtracks more than once per character per `*` (O(pattern ×
 * text)): a RegExp of one `[\s\S]*` per star took ~a minute for `*-*-*-*-*-*-prod` against
 * 127 dashes, blocking the event loop.
 */
export function compileGlob(glob: string): (text: string) => boolean {
  const tokens: Token[] = [];
  const chars = [...glob];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      if (!tokens.at(-1)?.star) tokens.push({ star: true });
    } else if (c === '?') tokens.push({ star: false, test: () => true });
    else if (c === '[') {
      const cls = parseClass(chars, i + 1);
      // An unterminated class matches nothing in SQLite, so the whole pattern never matches.
      if (!cls) return () => false;
      const re = new RegExp(`^${cls.re}$`, 'u');
      tokens.push({ star: false, test: (ch) => re.test(ch) });
      i = cls.end;
    } else tokens.push({ star: false, test: (ch) => ch === c });
  }
  return (text) => matchTokens(tokens, [...text]);
}

/** Greedy wildcard matching: on a mismatch, the last `*` takes one more character. */
function matchTokens(tokens: Token[], text: string[]): boolean {
  let t = 0;
  let i = 0;
  let star = -1;
  let starAt = 0;
  while (i < text.length) {
    const tok = tokens[t] as Token | undefined;
    if (tok && !tok.star && tok.test(text[i])) {
      t++;
      i++;
    } else if (tok?.star) {
      star = t++;
      starAt = i;
    } else if (star >= 0) {
      t = star + 1;
      i = ++starAt;
    } else return false;
  }
  while (tokens[t]?.star) t++;
  return t === tokens.length;
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
