import { InvalidInputError } from '../../lib/errors.js';
import { NUMBER_RE } from '../../lib/number-text.js';
import type { WhereExpr, WhereField } from '../../core/where.js';
import { numText, type WhereTarget } from '../sqlite/where-sql.js';
import { globCondition, pgText } from './pg-glob.js';
import { MEDIA_TYPE } from './pg-sql.js';

/** Epoch ms as SQLite's strftime('%Y-%m-%dT%H:%M:%fZ') writes it (exact integer arithmetic). */
const ISO = (col: string) =>
  `to_char(timestamp '1970-01-01' + ${col} * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Every field as text in byte order (COLLATE "C"), as the SQLite dialect compares it. */
const C = (sql: string) => `(${sql}) COLLATE "C"`;

const COLUMNS: Record<WhereTarget, Record<string, string>> = {
  artifact: {
    id: 'a.id',
    name: 'a.name',
    session: 's.id',
    type: C(MEDIA_TYPE),
    size: C('a.size::text'),
    version: C('a.version::text'),
    sha256: 'a.sha256',
    created_at: C(ISO('a.created_at')),
  },
  session: {
    id: 's.id',
    created_at: C(ISO('s.created_at')),
    updated_at: C(ISO('s.updated_at')),
    sealed: C("CASE WHEN s.sealed_at IS NULL THEN 'false' ELSE 'true' END"),
    artifact_count: C('s.artifact_count::text'),
    total_bytes: C('s.total_bytes::text'),
  },
};

/** NUMBER_RE as a PostgreSQL regex (the same text: digits, sign, dot, exponent). */
const NUMBER_PG = NUMBER_RE.source;

/**
 * Compiles a parsed `where=` expression to a PostgreSQL condition over `a`/`s` (artifact
 * target) or `s` (session target), with the answers of the SQLite dialect (sqlite/where-sql.ts)
 * and of the in-memory evaluator: text compares in byte order; a number literal compares
 * numerically with a value that reads as a number (NUMBER_RE) and as text otherwise; globs are
 * SQLite GLOB (see pg-glob.ts). Every literal becomes a named parameter added to `params`.
 */
export function compileWherePg(
  expr: WhereExpr,
  target: WhereTarget,
  params: Record<string, unknown>,
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
          return `(CASE WHEN ${x} ~ ${param(NUMBER_PG)} THEN cairn_num(${x}) ${e.op} ${param(e.value)}::float8 ELSE ${x} ${e.op} ${param(numText(e.value))}::text END)`;
        }
        return `${x} ${e.op} ${param(pgText(e.value))}::text`;
      case 'glob':
        return globCondition(x, e.pattern, (re) => `${param(re)}::text`, true);
      case 'in':
        return balanced(
          e.values.map((v) => predicate(x, { kind: 'cmp', field: e.field, op: '=', value: v })),
          ' OR ',
        );
      case 'exists':
        return 'TRUE';
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
    return metaExists(e.field.key, e.kind === 'exists' ? null : predicate('m.value', e));
  };

  /** The owner has metadata `key` (whose value meets `cond`, if given). */
  const metaExists = (key: string, cond: string | null): string => {
    const table = target === 'artifact' ? 'artifact_meta' : 'session_meta';
    const owner = target === 'artifact' ? 'artifact_seq' : 'session_seq';
    const self = target === 'artifact' ? 'a.seq' : 's.seq';
    const and = cond === null ? '' : ` AND ${cond}`;
    return `EXISTS (SELECT 1 FROM ${table} m WHERE m.${owner} = ${self} AND m.key = ${param(key)}::text${and})`;
  };

  // Tests of one metadata key under one `or` read one row: a single probe whose value condition
  // is their `or` (one index probe per row, not one per term: 736 terms on one key were 736).
  const anyOf = (terms: WhereExpr[]): string => {
    const byKey = new Map<string, WhereExpr[]>();
    const out: string[] = [];
    for (const t of terms) {
      const field = t.kind === 'cmp' || t.kind === 'glob' || t.kind === 'in' ? t.field : null;
      if (field?.kind === 'meta') {
        const same = byKey.get(field.key);
        if (same) same.push(t);
        else byKey.set(field.key, [t]);
      } else out.push(walk(t));
    }
    for (const [key, same] of byKey)
      out.push(
        same.length === 1
          ? walk(same[0])
          : metaExists(
              key,
              balanced(
                same.map((t) => predicate('m.value', t)),
                ' OR ',
              ),
            ),
      );
    return balanced(out, ' OR ');
  };

  // Chains of one operator as a balanced tree: nested one level per operand, a long list of
  // `or` terms would be as deep as it is long for the parser.
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
        return balanced(chain(e, 'and', []).map(walk), ' AND ');
      case 'or':
        return anyOf(chain(e, 'or', []));
      case 'not':
        return `(NOT ${walk(e.expr)})`;
      default:
        return leaf(e);
    }
  };
  return walk(expr);
}

/** `parts` joined by `op` as a balanced tree of parenthesized groups of at most 8. */
function balanced(parts: string[], op: string): string {
  if (parts.length === 1) return parts[0];
  if (parts.length <= 8) return `(${parts.join(op)})`;
  const mid = Math.ceil(parts.length / 2);
  return `(${balanced(parts.slice(0, mid), op)}${op}${balanced(parts.slice(mid), op)})`;
}
