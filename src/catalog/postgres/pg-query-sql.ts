import type { ArtifactQuery, MetaFilter, SessionQuery } from '../../core/types.js';
import { decodeCursor, type Sql } from '../sqlite/query-sql.js';
import { globCondition, pgText } from './pg-glob.js';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_LIVE,
  MEDIA_TYPE,
  NEWEST_LIVE,
  SESSION_LIVE,
} from './pg-sql.js';
import { compileWherePg } from './pg-where.js';

/**
 * Metadata conditions, one `EXISTS` probe of the (key, value, owner) primary key per filter:
 * the planner walks the smallest match list (or the owners newest first) and stops at the
 * page's limit. (`owner IN (… INTERSECT …)` built every filter's full match list first: 130 ms
 * for a selective pair and 350 ms for an unselective one at 1,000,000 artifacts, see
 * bench/pg-query.mjs.)
 */
function metaCondition(
  filters: MetaFilter[],
  table: 'artifact_meta' | 'session_meta',
  owner: string,
  params: Record<string, unknown>,
  bounds: string[] = [],
): string {
  const col = table === 'artifact_meta' ? 'artifact_seq' : 'session_seq';
  const within = bounds.map((b) => ` AND m.${col} ${b}`).join('');
  const parts = filters.map((f, i) => {
    params[`mk${i}`] = f.key;
    let cond = `m.key = @mk${i}::text`;
    if (f.op === 'eq') {
      params[`mv${i}`] = pgText(f.value);
      cond += ` AND m.value = @mv${i}::text`;
    } else if (f.op === 'prefix') {
      params[`mv${i}`] = pgText(f.value);
      params[`mu${i}`] = `${pgText(f.value)}\u{10FFFF}`;
      cond += ` AND m.value >= @mv${i}::text AND m.value < @mu${i}::text`;
    }
    return `EXISTS (SELECT 1 FROM ${table} m WHERE m.${col} = ${owner} AND ${cond}${within})`;
  });
  return parts.join(' AND ');
}

/** A glob parameter adder for {@link globCondition}. */
function globParam(params: Record<string, unknown>, name: string) {
  return (re: string) => {
    params[name] = re;
    return `@${name}::text`;
  };
}

/**
 * Where a staged artifact query looks (see pg-artifact-query.ts): seqs from `from` and below
 * `below`, or only those in `among`; at most `limit` rows. `from` and `among` are SQL
 * expressions (a parameter, or a column of an enclosing query the statement is joined to).
 */
export interface SeqRange {
  from?: string;
  below?: number;
  among?: string;
  limit?: number;
}

/**
 * SQL for an artifact query, newest first, fetching one row more than `q.limit` (or
 * `range.limit` rows of the seqs `range` allows).
 */
export function artifactQuerySqlPg(q: ArtifactQuery, now: number, range: SeqRange = {}): Sql {
  const params: Record<string, unknown> = { now, limit: range.limit ?? q.limit + 1 };
  const where = [ARTIFACT_LIVE];
  if (q.session !== undefined) {
    params.session = q.session;
    where.push('s.id = @session::text');
  }
  if (q.sessions !== undefined)
    where.push(globCondition('s.id', q.sessions, globParam(params, 'sessions')));
  if (q.type !== undefined) {
    const type = q.type.toLowerCase();
    if (type.endsWith('/*')) {
      const family = type.slice(0, -1);
      params.typeLo = family;
      params.typeHi = `${family.slice(0, -1)}0`;
      where.push(
        `${MEDIA_TYPE} COLLATE "C" >= @typeLo::text AND ${MEDIA_TYPE} COLLATE "C" < @typeHi::text`,
      );
    } else {
      params.type = type;
      where.push(`${MEDIA_TYPE} COLLATE "C" = @type::text`);
    }
  }
  if (q.name !== undefined) where.push(globCondition('a.name', q.name, globParam(params, 'name')));
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
  // Bounds on seq, repeated inside each metadata probe: the planner does not carry them from
  // a.seq to m.artifact_seq, and a probe walking a pair's match list should stop at them.
  const bounds: string[] = [];
  if (q.cursor !== undefined) bounds.push('< @cursor');
  if (range.from !== undefined) bounds.push(`>= ${range.from}`);
  if (range.below !== undefined) {
    params.below = range.below;
    bounds.push('< @below');
  }
  where.push(...bounds.map((b) => `a.seq ${b}`));
  if (range.among !== undefined) where.push(`a.seq = ANY(${range.among})`);
  if (q.meta?.length) where.push(metaCondition(q.meta, 'artifact_meta', 'a.seq', params, bounds));
  if (q.where) where.push(compileWherePg(q.where, 'artifact', params));
  return {
    text: `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
      WHERE ${where.join(' AND ')} ORDER BY a.seq DESC LIMIT @limit`,
    params,
  };
}

/** SQL for a session query, newest first, fetching one row more than `q.limit`. */
export function sessionQuerySqlPg(q: SessionQuery, now: number): Sql {
  const params: Record<string, unknown> = { now, limit: q.limit + 1 };
  const where = [SESSION_LIVE];
  if (q.sessions !== undefined)
    where.push(globCondition('s.id', q.sessions, globParam(params, 'sessions')));
  if (q.sealed !== undefined)
    where.push(q.sealed ? 's.sealed_at IS NOT NULL' : 's.sealed_at IS NULL');
  if (q.idContains) {
    params.idc = q.idContains;
    where.push('strpos(s.id, @idc::text) > 0');
  }
  if (q.cursor !== undefined) {
    params.cursor = decodeCursor(q.cursor);
    where.push('s.seq < @cursor');
  }
  if (q.meta?.length) where.push(metaCondition(q.meta, 'session_meta', 's.seq', params));
  if (q.where) where.push(compileWherePg(q.where, 'session', params));
  return {
    text: `SELECT s.* FROM sessions s WHERE ${where.join(' AND ')} ORDER BY s.seq DESC LIMIT @limit`,
    params,
  };
}
