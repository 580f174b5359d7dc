import { compileGlob } from '../../src/lib/glob.js';
import type { ArtifactRecord, SessionRecord } from '../../src/core/types.js';
import type { WhereExpr, WhereField } from '../../src/core/where.js';
import { NUMBER_RE } from '../../src/core/where-parser.js';

/**
 * The reference semantics of `where=`, evaluated in memory over one record (test oracle for
 * the SQL compiler): a condition on an absent metadata key is false; `not` is plain negation;
 * a number literal compares numerically with values that are numbers and as text otherwise;
 * text compares byte-wise in UTF-8 (SQLite's BINARY collation); `~` is a case-sensitive glob.
 */
export function evaluate(e: WhereExpr, rec: ArtifactRecord | SessionRecord): boolean {
  switch (e.kind) {
    case 'and':
      return evaluate(e.left, rec) && evaluate(e.right, rec);
    case 'or':
      return evaluate(e.left, rec) || evaluate(e.right, rec);
    case 'not':
      return !evaluate(e.expr, rec);
    case 'exists':
      return valueOf(e.field, rec) !== undefined;
    case 'glob': {
      const v = valueOf(e.field, rec);
      return v !== undefined && compileGlob(e.pattern)(v);
    }
    case 'in':
      return e.values.some((value) =>
        evaluate({ kind: 'cmp', field: e.field, op: '=', value }, rec),
      );
    case 'cmp': {
      const v = valueOf(e.field, rec);
      if (v === undefined) return false;
      if (typeof e.value === 'number' && NUMBER_RE.test(v)) return cmp(Number(v), e.value, e.op);
      const lit = typeof e.value === 'number' ? String(e.value) : e.value;
      return cmp(Buffer.compare(Buffer.from(v), Buffer.from(lit)), 0, e.op);
    }
  }
}

function cmp(a: number, b: number, op: string): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

function valueOf(f: WhereField, rec: ArtifactRecord | SessionRecord): string | undefined {
  if (f.kind === 'meta') return rec.meta[f.key];
  if ('sha256' in rec) {
    const a = rec;
    const cols: Record<string, string> = {
      id: a.id,
      name: a.name,
      session: a.session,
      // The media type: lowercased, without parameters.
      type: a.content_type.split(';')[0].trim().toLowerCase(),
      size: String(a.size),
      version: String(a.version),
      sha256: a.sha256,
      created_at: a.created_at,
    };
    return cols[f.column];
  }
  const s = rec;
  const cols: Record<string, string> = {
    id: s.id,
    created_at: s.created_at,
    updated_at: s.updated_at,
    sealed: String(s.sealed),
    artifact_count: String(s.artifact_count),
    total_bytes: String(s.total_bytes),
  };
  return cols[f.column];
}

/** Prints an AST back as `where=` text (what parseWhere must turn into the same AST). */
export function print(e: WhereExpr): string {
  switch (e.kind) {
    case 'and':
    case 'or':
      return `(${print(e.left)} ${e.kind} ${print(e.right)})`;
    case 'not':
      return `not (${print(e.expr)})`;
    case 'exists':
      return `${field(e.field)} exists`;
    case 'glob':
      return `${field(e.field)} ~ ${quote(e.pattern)}`;
    case 'in':
      return `${field(e.field)} in (${e.values.map(literal).join(', ')})`;
    case 'cmp':
      return `${field(e.field)} ${e.op} ${literal(e.value)}`;
  }
}

const field = (f: WhereField) => (f.kind === 'meta' ? `meta.${f.key}` : f.column);
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const literal = (v: string | number) => (typeof v === 'number' ? String(v) : quote(v));
