import { InvalidInputError } from '../lib/errors.js';
import type { CmpOp, WhereExpr, WhereField } from './where.js';
import { NUMBER_RE } from '../lib/number-text.js';

/** Longest `where=` expression accepted, in characters (bounds query cost). */
export const MAX_WHERE_LENGTH = 4096;
/** Deepest nesting accepted. */
const MAX_DEPTH = 32;
/** Most values in one `in (…)` list. */
const MAX_IN = 256;

type Tok =
  | { t: 'str'; v: string; pos: number }
  | { t: 'num'; v: number; raw: string; pos: number }
  | { t: 'id'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'exists']);

/**
 * Parses a `where=` expression (DESIGN §2) into an AST. Throws InvalidInputError
 * (`invalid_where`) whose message names the 1-based character position of the problem.
 */
export function parseWhere(text: string): WhereExpr {
  if (text.length > MAX_WHERE_LENGTH)
    fail(`where expression is longer than ${MAX_WHERE_LENGTH} characters`, 1);
  const p = new Parser(tokenize(text));
  const expr = p.expr(0);
  p.expectEnd();
  return expr;
}

/** Text of a number literal as the user typed it, for string comparison. */
export { NUMBER_RE };

function fail(why: string, pos: number): never {
  throw new InvalidInputError(
    'invalid_where',
    `invalid where expression at position ${pos}: ${why}`,
    { position: pos },
  );
}

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let v = '';
      for (;;) {
        if (j >= s.length) fail('unterminated string', i + 1);
        if (s[j] === c) {
          if (s[j + 1] === c) {
            v += c;
            j += 2;
            continue;
          }
          break;
        }
        v += s[j++];
      }
      out.push({ t: 'str', v, pos: i + 1 });
      i = j + 1;
    } else if (/[-0-9.]/.test(c) && /^-?(\d|\.\d)/.test(s.slice(i, i + 3))) {
      const m = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(s.slice(i)) as RegExpExecArray;
      out.push({ t: 'num', v: Number(m[0]), raw: m[0], pos: i + 1 });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z0-9_.-]+/.exec(s.slice(i)) as RegExpExecArray;
      out.push({ t: 'id', v: m[0], pos: i + 1 });
      i += m[0].length;
    } else {
      const two = s.slice(i, i + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : '=<>~(),'.includes(c) ? c : null;
      if (!op) fail(`unexpected character '${c}'`, i + 1);
      out.push({ t: 'op', v: op, pos: i + 1 });
      i += op.length;
    }
  }
  out.push({ t: 'end', pos: s.length + 1 });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.i];
  }
  private next(): Tok {
    return this.toks[this.i++];
  }
  private isWord(w: string): boolean {
    const t = this.peek();
    return t.t === 'id' && t.v.toLowerCase() === w;
  }
  private isOp(o: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === o;
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.t !== 'end') fail(`expected 'and', 'or' or the end, found ${describe(t)}`, t.pos);
  }

  expr(depth: number): WhereExpr {
    if (depth > MAX_DEPTH)
      fail(
        `expression is nested too deeply: at most ${MAX_DEPTH} levels of parentheses and 'not'`,
        this.peek().pos,
      );
    let left = this.conj(depth);
    while (this.isWord('or')) {
      this.next();
      left = { kind: 'or', left, right: this.conj(depth) };
    }
    return left;
  }

  private conj(depth: number): WhereExpr {
    let left = this.unary(depth);
    while (this.isWord('and')) {
      this.next();
      left = { kind: 'and', left, right: this.unary(depth) };
    }
    return left;
  }

  private unary(depth: number): WhereExpr {
    // Both ways of nesting come through here: `(` and `not` (1,000 nested `not`s passed the
    // limit when only parentheses counted, and SQLite then refused the expression: a 500).
    if (depth > MAX_DEPTH)
      fail(
        `expression is nested too deeply: at most ${MAX_DEPTH} levels of parentheses and 'not'`,
        this.peek().pos,
      );
    if (this.isWord('not')) {
      this.next();
      return { kind: 'not', expr: this.unary(depth + 1) };
    }
    if (this.isOp('(')) {
      this.next();
      const e = this.expr(depth + 1);
      const t = this.next();
      if (t.t !== 'op' || t.v !== ')') fail(`expected ')', found ${describe(t)}`, t.pos);
      return e;
    }
    return this.condition();
  }

  private condition(): WhereExpr {
    const t = this.next();
    if (t.t !== 'id' || KEYWORDS.has(t.v.toLowerCase()))
      fail(`expected a field name, found ${describe(t)}`, t.pos);
    const field = toField(t.v, t.pos);
    if (this.isWord('exists')) {
      this.next();
      return { kind: 'exists', field };
    }
    if (this.isWord('in')) {
      this.next();
      return { kind: 'in', field, values: this.list() };
    }
    const op = this.next();
    if (op.t !== 'op' || !['=', '!=', '<', '<=', '>', '>=', '~'].includes(op.v)) {
      fail(
        `expected an operator (= != < <= > >= ~ in exists) after '${t.v}', found ${describe(op)}`,
        op.pos,
      );
    }
    if (op.v === '~') {
      const v = this.next();
      if (v.t !== 'str') fail(`'~' takes a quoted glob pattern, found ${describe(v)}`, v.pos);
      return { kind: 'glob', field, pattern: v.v };
    }
    return { kind: 'cmp', field, op: op.v as CmpOp, value: this.literal() };
  }

  private list(): (string | number)[] {
    const open = this.next();
    if (open.t !== 'op' || open.v !== '(')
      fail(`expected '(' after 'in', found ${describe(open)}`, open.pos);
    const values = [this.literal()];
    while (this.isOp(',')) {
      this.next();
      values.push(this.literal());
      if (values.length > MAX_IN) fail(`at most ${MAX_IN} values in a list`, this.peek().pos);
    }
    const close = this.next();
    if (close.t !== 'op' || close.v !== ')')
      fail(`expected ',' or ')', found ${describe(close)}`, close.pos);
    return values;
  }

  private literal(): string | number {
    const t = this.next();
    if (t.t === 'str' || t.t === 'num') return t.v;
    return fail(`expected a quoted string or a number, found ${describe(t)}`, t.pos);
  }
}

const COLUMNS = new Set([
  'name',
  'session',
  'type',
  'size',
  'version',
  'created_at',
  'sha256',
  'id',
  'sealed',
  'updated_at',
  'artifact_count',
  'total_bytes',
]);

function toField(word: string, pos: number): WhereField {
  if (word.startsWith('meta.')) {
    const key = word.slice(5);
    if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(key)) fail(`'${key}' is not a valid metadata key`, pos);
    return { kind: 'meta', key };
  }
  if (COLUMNS.has(word)) return { kind: 'column', column: word };
  if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(word)) fail(`'${word}' is not a valid metadata key`, pos);
  return { kind: 'meta', key: word };
}

function describe(t: Tok): string {
  switch (t.t) {
    case 'end':
      return 'the end';
    case 'str':
      return `string '${t.v.slice(0, 20)}'`;
    case 'num':
      return `number ${t.raw}`;
    default:
      return `'${t.v}'`;
  }
}
