import { InvalidInputError } from '../../lib/errors.js';
import type { ArtifactQuery, MetaFilter, Page, SessionQuery } from '../../core/types.js';
import { ARTIFACT_COLUMNS, ARTIFACT_LIVE, MEDIA_TYPE, NEWEST_LIVE, SESSION_LIVE } from './rows.js';
import { compileWhere, metaOfOwner } from './where-sql.js';

/** A SQL statement with named parameters. */
export interface Sql {
  text: string;
  params: Record<string, unknown>;
}

/** Opaque page cursor: base64url of "c1.<seq>". Throws `invalid_cursor` for anything else. */
export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^c1\.(\d{1,15})$/.exec(text);
  if (!m) {
    throw new InvalidInputError(
      'invalid_cursor',
      'cursor is invalid: pass back the next_cursor of a previous page unchanged',
    );
  }
  return Number(m[1]);
}

/** Encodes a position for {@link decodeCursor}. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`c1.${seq}`).toString('base64url');
}

/** A page of `rows` (fetched `limit + 1`, the extra one telling that more follow), mapped. */
export function page<R extends { seq: number }, T>(
  rows: R[],
  limit: number,
  map: (r: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return {
    items: items.map(map),
    next_cursor: more ? encodeCursor(items[items.length - 1].seq) : null,
  };
}

/**
 * Metadata conditions as one `seq IN (… INTERSECT …)` over the (key, value, owner) index: each
 * condition is an index range scan, and SQLite intersects the owner lists.
 */
function metaCondition(
  filters: MetaFilter[],
  table: 'artifact_meta' | 'session_meta',
  owner: string,
  params: Record<string, unknown>,
): string {
  const col = table === 'artifact_meta' ? 'artifact_seq' : 'session_seq';
  const parts = filters.map((f, i) => {
    params[`mk${i}`] = f.key;
    if (f.op === 'eq') {
      params[`mv${i}`] = f.value;
      return `SELECT ${col} FROM ${table} WHERE key = @mk${i} AND value = @mv${i}`;
    }
    if (f.op === 'prefix') {
      params[`mv${i}`] = f.value;
      params[`mu${i}`] = `${f.value}\u{10FFFF}`;
      return `SELECT ${col} FROM ${table} WHERE key = @mk${i} AND value >= @mv${i} AND value < @mu${i}`;
    }
    return `SELECT ${col} FROM ${table} WHERE key = @mk${i}`;
  });
  return `${owner} IN (${parts.join(' INTERSECT ')})`;
}

/**
 * How an artifact query's metadata conditions are evaluated (see artifact-query-plan.ts):
 * - `intersect`: all of them as one `seq IN (… INTERSECT …)` (bounded cost whatever matches);
 * - `driven`: artifacts come from condition `drive`'s (key, value, seq) index range, the other
 *   conditions are point lookups per row (for a selective condition);
 * - `window`: newest rows first straight from the artifacts table within `a.seq >= @floor`,
 *   every condition a point lookup per row (unselective conditions that match often);
 * - `candidates`: only the artifacts `seqs` (a JSON array, from the planner's bitmaps), every
 *   condition still a point lookup per row, so a stale candidate is simply not returned;
 * - `sessions`: only the artifacts of the sessions the query's `sessions` glob matches (driven
 *   from the session id index; for a glob whose sessions hold few artifacts), every condition
 *   a point lookup per row, the matches sorted by seq alone before their rows are read.
 */
export type MetaPlan =
  | { kind: 'intersect'; below?: number }
  | { kind: 'driven'; drive: number }
  | { kind: 'window'; floor: number }
  | { kind: 'candidates'; seqs: number[] }
  | { kind: 'sessions' };

/** One metadata condition as a lookup for one artifact (`owner`: its seq expression). */
function metaExists(
  f: MetaFilter,
  i: number,
  params: Record<string, unknown>,
  owner = 'a.seq',
): string {
  params[`mk${i}`] = f.key;
  if (f.op === 'eq') {
    params[`mv${i}`] = f.value;
    return `EXISTS (SELECT 1 FROM artifact_meta WHERE key = @mk${i} AND value = @mv${i} AND artifact_seq = ${owner})`;
  }
  let cond = '';
  if (f.op === 'prefix') {
    params[`mv${i}`] = f.value;
    params[`mu${i}`] = `${f.value}\u{10FFFF}`;
    cond = ` AND value >= @mv${i} AND value < @mu${i}`;
  }
  return metaOfOwner(owner, `@mk${i}`, cond);
}

/**
 * `a.seq IN (owners of condition `drive`)`, a range of the (key, value, seq) index, with the
 * other conditions checked inside the subquery: index lookups only, no artifact row read for
 * an owner that fails them.
 */
function metaDriven(filters: MetaFilter[], drive: number, params: Record<string, unknown>): string {
  const f = filters[drive];
  params[`mk${drive}`] = f.key;
  let cond = '';
  if (f.op === 'eq') {
    params[`mv${drive}`] = f.value;
    cond = ` AND m.value = @mv${drive}`;
  } else if (f.op === 'prefix') {
    params[`mv${drive}`] = f.value;
    params[`mu${drive}`] = `${f.value}\u{10FFFF}`;
    cond = ` AND m.value >= @mv${drive} AND m.value < @mu${drive}`;
  }
  const others = filters
    .map((o, i) => (i === drive ? '' : ` AND ${metaExists(o, i, params, 'm.artifact_seq')}`))
    .join('');
  return `a.seq IN (SELECT m.artifact_seq FROM artifact_meta m WHERE m.key = @mk${drive}${cond}${others})`;
}

/** The metadata part of an artifact query's WHERE, per plan. */
function metaPlanCondition(
  filters: MetaFilter[],
  plan: MetaPlan,
  params: Record<string, unknown>,
): string[] {
  if (plan.kind === 'intersect') {
    const out =
      filters.length > 0 ? [metaCondition(filters, 'artifact_meta', 'a.seq', params)] : [];
    if (plan.below !== undefined) {
      params.below = plan.below;
      out.push('a.seq < @below');
    }
    return out;
  }
  if (plan.kind === 'window') {
    params.floor = plan.floor;
    return ['a.seq >= @floor', ...filters.map((f, i) => metaExists(f, i, params))];
  }
  if (plan.kind === 'sessions') return filters.map((f, i) => metaExists(f, i, params));
  if (plan.kind === 'candidates') {
    params.seqs = JSON.stringify(plan.seqs);
    return [
      'a.seq IN (SELECT value FROM json_each(@seqs))',
      ...filters.map((f, i) => metaExists(f, i, params)),
    ];
  }
  return [metaDriven(filters, plan.drive, params)];
}

/**
 * SQL for an artifact query, newest first, fetching one row more than `limit` (default: the
 * query's). Metadata conditions follow `plan` (default: one INTERSECT). The `sessions` glob is
 * tested per row (newest artifacts first: most rows match it), except in the `sessions` plan.
 */
export function artifactQuerySql(
  q: ArtifactQuery,
  now: number,
  plan: MetaPlan = { kind: 'intersect' },
  limit = q.limit,
): Sql {
  const params: Record<string, unknown> = { now, limit: limit + 1 };
  const where = [ARTIFACT_LIVE];
  // Candidates are looked up by rowid: without statistics SQLite would rather walk a whole
  // session through its index when `session` is given (NOT INDEXED still allows rowid lookups).
  const candidates = plan.kind === 'candidates';
  if (q.session !== undefined) {
    params.session = q.session;
    where.push('s.id = @session');
  }
  if (q.sessions !== undefined) {
    params.sessions = q.sessions;
    // `+` keeps SQLite off the id index: driven from it, every artifact of every matching
    // session is read and sorted (1.8 s for `run_*` at 200,000 artifacts).
    where.push(plan.kind === 'sessions' ? 's.id GLOB @sessions' : '+s.id GLOB @sessions');
  }
  if (q.type !== undefined) {
    const type = q.type.toLowerCase();
    if (type.endsWith('/*')) {
      const family = type.slice(0, -1);
      params.typeLo = family;
      params.typeHi = `${family.slice(0, -1)}0`;
      // In the newest window, tested per row (`+` keeps SQLite off the index, whose range of a
      // common family holds most of the table, every match of it then sorted).
      const t = plan.kind === 'window' || plan.kind === 'sessions' ? `+${MEDIA_TYPE}` : MEDIA_TYPE;
      where.push(`${t} >= @typeLo AND ${t} < @typeHi`);
    } else {
      params.type = type;
      where.push(`${MEDIA_TYPE} = @type`);
    }
  }
  if (q.name !== undefined) {
    params.name = q.name;
    where.push('a.name GLOB @name');
  }
  if (q.since !== undefined) {
    params.since = q.since;
    where.push('a.created_at >= @since');
  }
  if (q.until !== undefined) {
    params.until = q.until;
    where.push('a.created_at < @until');
  }
  if (q.latest) where.push(NEWEST_LIVE);
  if (q.cursor !== undefined) {
    params.cursor = decodeCursor(q.cursor);
    where.push('a.seq < @cursor');
  }
  where.push(...metaPlanCondition(q.meta ?? [], plan, params));
  if (q.where) {
    const perRow = plan.kind !== 'intersect';
    where.push(compileWhere(q.where, 'artifact', params, { perRow }));
  }
  const from = `FROM artifacts a${candidates ? ' NOT INDEXED' : ''} JOIN sessions s ON s.seq = a.session_seq`;
  const rows = `${from} WHERE ${where.join(' AND ')} ORDER BY a.seq DESC LIMIT @limit`;
  // Driven from the sessions, every match is sorted: sort only its seq, then read the page's
  // rows (all columns, lineage included, of 10,000 matches sorted: 41 ms -> 3 ms).
  const text =
    plan.kind === 'sessions'
      ? `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
      WHERE a.seq IN (SELECT a.seq ${rows}) ORDER BY a.seq DESC`
      : `SELECT ${ARTIFACT_COLUMNS} ${rows}`;
  return { text, params };
}

/** SQL for a session query, newest first, fetching one row more than the limit. */
export function sessionQuerySql(q: SessionQuery, now: number): Sql {
  const params: Record<string, unknown> = { now, limit: q.limit + 1 };
  const where = [SESSION_LIVE];
  if (q.sessions !== undefined) {
    params.sessions = q.sessions;
    // Per row, newest first: driven from the id index, `run_*` sorted every session (9 ms at
    // 10,000 sessions, 0.3 ms so); a walk of the whole table is the worst case either way.
    where.push('+s.id GLOB @sessions');
  }
  if (q.sealed !== undefined)
    where.push(q.sealed ? 's.sealed_at IS NOT NULL' : 's.sealed_at IS NULL');
  if (q.idContains) {
    params.idc = q.idContains;
    where.push('instr(s.id, @idc) > 0');
  }
  if (q.cursor !== undefined) {
    params.cursor = decodeCursor(q.cursor);
    where.push('s.seq < @cursor');
  }
  if (q.meta?.length) where.push(metaCondition(q.meta, 'session_meta', 's.seq', params));
  if (q.where) where.push(compileWhere(q.where, 'session', params));
  return {
    text: `SELECT s.* FROM sessions s WHERE ${where.join(' AND ')} ORDER BY s.seq DESC LIMIT @limit`,
    params,
  };
}
