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
      tokens.push({ star: false, test: cls.test });
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
 * A `[…]` class starting after its `[`, read exactly as SQLite's patternCompare reads it: `^`
 * first negates; a `]` right after `[` or `[^` is a member; `x-y` is a range when `-` follows a
 * member and comes before something other than `]`, and the member before it counts on its own
 * too (so `[z-a]` matches `z`); a `-` anywhere else is a member. Returns a test of one
 * character and the index of the closing `]`; null if there is none (nothing matches then).
 */
function parseClass(
  chars: string[],
  from: number,
): { test: (c: string) => boolean; end: number } | null {
  let i = from;
  const negate = chars[i] === '^';
  if (negate) i++;
  const singles = new Set<number>();
  const ranges: [number, number][] = [];
  if (chars[i] === ']') {
    singles.add(93);
    i++;
  }
  let prior = 0; // SQLite's prior_c: the member a following '-' may start a range from
  for (; i < chars.length && chars[i] !== ']'; i++) {
    const c = chars[i].codePointAt(0) as number;
    if (chars[i] === '-' && i + 1 < chars.length && chars[i + 1] !== ']' && prior > 0) {
      ranges.push([prior, chars[++i].codePointAt(0) as number]);
      prior = 0;
    } else {
      singles.add(c);
      prior = c;
    }
  }
  if (i >= chars.length) return null;
  const test = (ch: string) => {
    const c = ch.codePointAt(0) as number;
    const seen = singles.has(c) || ranges.some(([lo, hi]) => c >= lo && c <= hi);
    return seen !== negate;
  };
  return { test, end: i };
}
