import { InvalidInputError } from '../../lib/errors.js';
import type { WhereExpr, WhereField } from '../../core/where.js';
import { MEDIA_TYPE } from './rows.js';

/**
 * SQL true when artifact `owner` (an SQL expression) holds metadata key `key` (an SQL
 * parameter) with `cond` on its value, looked up through the owner index: an artifact has a
 * few keys, where a key (or a prefix) may span millions of rows.
 */
export function metaOfOwner(owner: string, key: string, cond: string): string {
  return `EXISTS (SELECT 1 FROM artifact_meta INDEXED BY artifact_meta_owner WHERE artifact_seq = ${owner} AND key = ${key}${cond})`;
}

/** What a `where=` expression is evaluated over. */
export type WhereTarget = 'artifact' | 'session';

const ISO = (col: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${col} / 1000.0, 'unixepoch')`;

const COLUMNS: Record<WhereTarget, Record<string, string>> = {
  artifact: {
    id: 'a.id',
    name: 'a.name',
    session: 's.id',
    type: MEDIA_TYPE,
    size: 'CAST(a.size AS TEXT)',
    version: 'CAST(a.version AS TEXT)',
    sha256: 'a.sha256',
    created_at: ISO('a.created_at'),
  },
  session: {
    id: 's.id',
    created_at: ISO('s.created_at'),
    updated_at: ISO('s.updated_at'),
    sealed: "CASE WHEN s.sealed_at IS NULL THEN 'false' ELSE 'true' END",
    artifact_count: 'CAST(s.artifact_count AS TEXT)',
    total_bytes: 'CAST(s.total_bytes AS TEXT)',
  },
};

/** Options for {@link compileWhere}. */
export interface CompileOptions {
  /**
   * The rows are already few (the planner drives from an index range or a bounded window):
   * test each metadata leaf per row with an owner-index lookup. Otherwise (default) a leaf is
   * `seq IN (owners of the value)`, which SQLite can drive from when it is selective, but
   * which it materializes whole first (~0.8 s for two common keys at 1M artifacts).
   */
  perRow?: boolean;
}

/**
 * Compiles a parsed `where=` expression to a SQL condition over `a`/`s` (artifact target) or
 * `s` (session target). Every literal becomes a named parameter added to `params`; nothing
 * from the expression is concatenated into the SQL text. Metadata conditions select from the
 * (key, value, owner) index. Needs the `cairn_isnum` and `cairn_tick` functions registered on
 * the connection (registerQueryFunctions).
 */
export function compileWhere(
  expr: WhereExpr,
  target: WhereTarget,
  params: Record<string, unknown>,
  opts: CompileOptions = {},
): string {
  let n = 0;
  const param = (v: unknown): string => {
    const name = `w${n++}`;
    params[name] = v;
    return `@${name}`;
  };

  const predicate = (x: string, e: WhereExpr): string => {
    switch (e.kind) {
      case 'cmp':
        if (typeof e.value === 'number') {
          return `(CASE WHEN cairn_isnum(${x}) THEN CAST(${x} AS REAL) ${e.op} ${param(e.value)} ELSE ${x} ${e.op} ${param(numText(e.value))} END)`;
        }
        return `${x} ${e.op} ${param(e.value)}`;
      case 'glob':
        return `${x} GLOB ${param(e.pattern)}`;
      case 'in':
        return balanced(
          e.values.map((v) => predicate(x, { kind: 'cmp', field: e.field, op: '=', value: v })),
          ' OR ',
        );
      case 'exists':
        return '1';
      default:
        throw new Error('not a leaf');
    }
  };

  const leaf = (e: WhereExpr & { field: WhereField }): string => {
    if (e.field.kind === 'column') {
      const col = COLUMNS[target][e.field.column];
      if (!col) {
        throw new InvalidInputError(
          'invalid_where',
          `'${e.field.column}' is not a field of a ${target}; write meta.${e.field.column} for the metadata key`,
        );
      }
      return predicate(col, e);
    }
    const table = target === 'artifact' ? 'artifact_meta' : 'session_meta';
    const owner = target === 'artifact' ? 'artifact_seq' : 'session_seq';
    const self = target === 'artifact' ? 'a.seq' : 's.seq';
    const cond = e.kind === 'exists' ? '' : ` AND ${predicate('value', e)}`;
    if (opts.perRow && target === 'artifact') {
      return metaOfOwner('a.seq', param(e.field.key), cond);
    }
    return `${self} IN (SELECT ${owner} FROM ${table} WHERE key = ${param(e.field.key)}${cond})`;
  };

  // Chains of one operator are gathered and emitted as a balanced tree (see balanced): nested
  // one level per operand, a long but valid expression would pass SQLite's depth limit.
  const chain = (e: WhereExpr, kind: 'and' | 'or', out: WhereExpr[]): WhereExpr[] => {
    if (e.kind === kind) {
      chain(e.left, kind, out);
      chain(e.right, kind, out);
    } else out.push(e);
    return out;
  };
  const walk = (e: WhereExpr): string => {
    switch (e.kind) {
      case 'and':
      case 'or':
        return balanced(chain(e, e.kind, []).map(walk), e.kind === 'and' ? ' AND ' : ' OR ');
      case 'not':
        return `(NOT ${walk(e.expr)})`;
      default:
        return leaf(e);
    }
  };
  // cairn_tick (see registerQueryFunctions) runs once per row tested: the point where a read
  // worker past its budget stops (terminating a thread waits for it to call into JavaScript).
  const self = target === 'artifact' ? 'a.seq' : 's.seq';
  return `(cairn_tick(${self}) AND ${walk(expr)})`;
}

/**
 * `parts` joined by `op` (` AND `/` OR `) as a balanced tree of parenthesized groups of at most
 * 8. SQLite parses `a OR b OR c …` into a tree one level deeper per operand, and refuses a tree
 * over 1,000 levels ("Expression tree is too large"): 480 `or` terms plus a 256-value `in` list,
 * well inside the 4,096-character limit, reached it. Balanced, 4,096 operands stay under 40.
 */
function balanced(parts: string[], op: string): string {
  if (parts.length === 1) return parts[0];
  if (parts.length <= 8) return `(${parts.join(op)})`;
  const mid = Math.ceil(parts.length / 2);
  return `(${balanced(parts.slice(0, mid), op)}${op}${balanced(parts.slice(mid), op)})`;
}

/** The text a number literal is compared as when the other side is not a number. */
export function numText(v: number): string {
  return String(v);
}
