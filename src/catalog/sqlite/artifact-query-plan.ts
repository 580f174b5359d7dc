import type Database from 'better-sqlite3';
import type { ArtifactQuery, MetaFilter } from '../../core/types.js';
import { artifactQuerySql, decodeCursor, type MetaPlan, type Sql } from './query-sql.js';
import type { ArtifactRow } from './rows.js';

/** A condition matching fewer owners than this is "selective": it drives the query. */
export const SELECTIVE_BELOW = 5000;
/** Newest artifacts looked at row by row before falling back to an INTERSECT. */
export const NEWEST_WINDOW = 4096;

/**
 * Chooses how to evaluate an artifact query's metadata conditions, from a bounded probe of
 * each condition's index range (at most {@link SELECTIVE_BELOW} entries read per condition):
 * - one condition is selective → drive from its few owners, check the others per row;
 * - all are unselective → look at the newest {@link NEWEST_WINDOW} artifacts row by row (two
 *   common values usually match there at once); only if that does not fill the page, finish
 *   with one INTERSECT below the window, whose cost is bounded whatever matches.
 * Returns up to `q.limit + 1` rows, newest first, exactly the rows the plain INTERSECT would.
 */
export function queryArtifactRows(
  db: Database.Database,
  q: ArtifactQuery,
  now: number,
): ArtifactRow[] {
  const plan = chooseMetaPlan(db, q);
  if (plan.kind !== 'window') return all(db, artifactQuerySql(q, now, plan));
  const newest = all(db, artifactQuerySql(q, now, plan));
  if (newest.length > q.limit || plan.floor <= 1) return newest;
  const rest: MetaPlan = { kind: 'intersect', below: plan.floor };
  return newest.concat(all(db, artifactQuerySql(q, now, rest, q.limit - newest.length)));
}

/** The first plan {@link queryArtifactRows} runs for `q` (exported for the plan tests). */
export function chooseMetaPlan(db: Database.Database, q: ArtifactQuery): MetaPlan {
  const filters = q.meta ?? [];
  if (filters.length === 0) return { kind: 'intersect' };
  const sizes = filters.map((f) => probe(db, f));
  const drive = sizes.indexOf(Math.min(...sizes));
  if (sizes[drive] < SELECTIVE_BELOW) return { kind: 'driven', drive };
  const start =
    q.cursor !== undefined
      ? decodeCursor(q.cursor)
      : ((db.prepare('SELECT max(seq) AS m FROM artifacts').get() as { m: number | null }).m ?? 0) +
        1;
  return { kind: 'window', floor: start - NEWEST_WINDOW };
}

/** Owners of one condition, counted up to {@link SELECTIVE_BELOW}. */
function probe(db: Database.Database, f: MetaFilter): number {
  const range =
    f.op === 'eq'
      ? 'key = ? AND value = ?'
      : f.op === 'prefix'
        ? 'key = ? AND value >= ? AND value < ?'
        : 'key = ?';
  const args =
    f.op === 'eq'
      ? [f.key, f.value]
      : f.op === 'prefix'
        ? [f.key, f.value, `${f.value}\u{10FFFF}`]
        : [f.key];
  const row = db
    .prepare(
      `SELECT count(*) AS n FROM (SELECT 1 FROM artifact_meta WHERE ${range} LIMIT ${SELECTIVE_BELOW})`,
    )
    .get(...args) as { n: number };
  return row.n;
}

function all(db: Database.Database, sql: Sql): ArtifactRow[] {
  return db.prepare<Record<string, unknown>, ArtifactRow>(sql.text).all(sql.params);
}
