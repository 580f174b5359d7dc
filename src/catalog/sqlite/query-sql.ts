import { InvalidInputError } from '../../lib/errors.js';
import type { ArtifactQuery, MetaFilter, SessionQuery } from '../../core/types.js';
import { ARTIFACT_COLUMNS, ARTIFACT_LIVE, SESSION_LIVE } from './rows.js';
import { compileWhere } from './where-sql.js';

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

/** SQL for an artifact query, newest first, fetching one row more than the limit. */
export function artifactQuerySql(q: ArtifactQuery, now: number): Sql {
  const params: Record<string, unknown> = { now, limit: q.limit + 1 };
  const where = [ARTIFACT_LIVE];
  if (q.session !== undefined) {
    params.session = q.session;
    where.push('s.id = @session');
  }
  if (q.type !== undefined) {
    if (q.type.endsWith('/*')) {
      const family = q.type.slice(0, -1);
      params.typeLo = family;
      params.typeHi = `${family.slice(0, -1)}0`;
      where.push('a.content_type >= @typeLo AND a.content_type < @typeHi');
    } else {
      params.type = q.type;
      where.push('a.content_type = @type');
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
  if (q.latest) where.push('a.is_latest = 1');
  if (q.cursor !== undefined) {
    params.cursor = decodeCursor(q.cursor);
    where.push('a.seq < @cursor');
  }
  if (q.meta?.length) where.push(metaCondition(q.meta, 'artifact_meta', 'a.seq', params));
  if (q.where) where.push(compileWhere(q.where, 'artifact', params));
  return {
    text: `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
      WHERE ${where.join(' AND ')} ORDER BY a.seq DESC LIMIT @limit`,
    params,
  };
}

/** SQL for a session query, newest first, fetching one row more than the limit. */
export function sessionQuerySql(q: SessionQuery, now: number): Sql {
  const params: Record<string, unknown> = { now, limit: q.limit + 1 };
  const where = [SESSION_LIVE];
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
