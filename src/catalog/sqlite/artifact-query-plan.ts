import type Database from 'better-sqlite3';
import type { ArtifactQuery, MetaFilter } from '../../core/types.js';
import type { WhereExpr } from '../../core/where.js';
import { MetaBitmaps, SeqBitmap } from './meta-bitmaps.js';
import { artifactQuerySql, decodeCursor, type MetaPlan, type Sql } from './query-sql.js';
import type { ArtifactRow } from './rows.js';

/** A condition matching fewer owners than this is "selective": it drives the query. */
export const SELECTIVE_BELOW = 5000;
/** Newest artifacts looked at row by row before falling back to an INTERSECT. */
export const NEWEST_WINDOW = 4096;
/** Bitmap candidates rechecked per statement, and in all before falling back to INTERSECT. */
const CANDIDATE_CHUNK = 256;
const MAX_CANDIDATES = 16_384;

/**
 * Chooses how to evaluate an artifact query's metadata conditions, from a bounded probe of
 * each condition's index range (at most {@link SELECTIVE_BELOW} entries read per condition):
 * - one condition is selective → drive from its few owners, check the others per row;
 * - all are unselective → look at the newest {@link NEWEST_WINDOW} artifacts row by row (two
 *   common values usually match there at once); if that does not fill the page, continue
 *   below the window with the AND of the values' bitmaps when every condition is an equality
 *   and `bitmaps` is given (candidates rechecked in SQL, at most {@link MAX_CANDIDATES}), and
 *   otherwise (or past that bound) with one INTERSECT, whose cost is bounded whatever matches.
 * Returns up to `q.limit + 1` rows, newest first, exactly the rows the plain INTERSECT would.
 */
export function queryArtifactRows(
  db: Database.Database,
  query: ArtifactQuery,
  now: number,
  bitmaps?: MetaBitmaps,
): ArtifactRow[] {
  // A where= expression stays as written; the equalities it implies also become metadata
  // conditions, so the plans above can drive from their indexes instead of testing every row.
  const implied = impliedMetaFilters(query.where, query.meta ?? []);
  const q = implied.length > 0 ? { ...query, meta: [...(query.meta ?? []), ...implied] } : query;
  const plan = chooseMetaPlan(db, q);
  // A token's glob whose sessions hold few artifacts: read those (unless a selective metadata
  // condition drives); walking the newest for them may pass nearly every row.
  if (plan.kind !== 'driven' && fewInSessions(db, q.sessions))
    return all(db, artifactQuerySql(q, now, { kind: 'sessions' }));
  if (plan.kind !== 'window') return all(db, artifactQuerySql(q, now, plan));
  const rows = all(db, artifactQuerySql(q, now, plan));
  if (rows.length > q.limit || plan.floor <= 1) return rows;
  let below = plan.floor;
  if (bitmaps) {
    const found = bitmapRows(db, q, now, bitmaps, below, q.limit + 1 - rows.length);
    if (found) {
      rows.push(...found.rows);
      if (found.done) return rows;
      below = found.below;
    }
  }
  const rest: MetaPlan = { kind: 'intersect', below };
  return rows.concat(all(db, artifactQuerySql(q, now, rest, q.limit - rows.length)));
}

/** Artifacts in the sessions of a glob below which the query drives from those sessions. */
export const FEW_IN_SESSIONS = 50_000;
/** Sessions of a glob looked at by the probe; more, and the query walks the newest artifacts. */
const FEW_SESSIONS = 2000;

/**
 * True if fewer than {@link FEW_SESSIONS} sessions match `glob` and they hold fewer than
 * {@link FEW_IN_SESSIONS} artifacts (from their counters, read through the id index for a glob
 * with a literal prefix): reading and sorting those beats walking the newest artifacts for the
 * few that match (at 1,000,000 artifacts, 10,000 of them in the oldest sessions: 1.1 s walked,
 * 23 ms driven; 40,000 newest: 20 ms driven, 0.4 ms walked). False without a glob.
 */
export function fewInSessions(db: Database.Database, glob: string | undefined): boolean {
  if (glob === undefined) return false;
  const row = db
    .prepare<[string], { k: number; n: number }>(
      `SELECT count(*) AS k, coalesce(sum(artifact_count), 0) AS n
       FROM (SELECT artifact_count FROM sessions WHERE id GLOB ? LIMIT ${FEW_SESSIONS})`,
    )
    .get(glob) as { k: number; n: number };
  return row.k < FEW_SESSIONS && row.n < FEW_IN_SESSIONS;
}

/** A metadata equality condition. */
type EqFilter = Extract<MetaFilter, { op: 'eq' }>;

/**
 * Up to `want` rows below seq `below` from the AND of the conditions' bitmaps, newest first;
 * null unless every condition is an equality and its bitmap is built (see MetaBitmaps.get).
 * `done` is false if {@link MAX_CANDIDATES} were checked first; the rest is then below `below`.
 */
export function bitmapRows(
  db: Database.Database,
  q: ArtifactQuery,
  now: number,
  bitmaps: MetaBitmaps,
  below: number,
  want: number,
): { rows: ArtifactRow[]; done: boolean; below: number } | null {
  const filters = q.meta ?? [];
  const eqs = filters.filter((f): f is EqFilter => f.op === 'eq');
  if (eqs.length === 0 || eqs.length < filters.length) return null;
  const top = db.prepare('SELECT max(seq) AS m FROM artifacts').get() as { m: number | null };
  if (!bitmaps.fits(eqs.length, top.m ?? 0)) return null;
  const maps: SeqBitmap[] = [];
  for (const f of eqs) {
    const map = bitmaps.get(f.key, f.value);
    if (map) maps.push(map);
  }
  if (maps.length < filters.length) return null;
  const rows: ArtifactRow[] = [];
  for (let checked = 0; rows.length < want;) {
    if (checked >= MAX_CANDIDATES) return { rows, done: false, below };
    const seqs = SeqBitmap.intersectBelow(maps, below, CANDIDATE_CHUNK);
    if (seqs.length === 0) break;
    checked += seqs.length;
    const plan: MetaPlan = { kind: 'candidates', seqs };
    rows.push(...all(db, artifactQuerySql(q, now, plan, want - rows.length - 1)));
    below = seqs[seqs.length - 1];
  }
  return { rows, done: true, below };
}
/** Most equalities taken from one where= expression (each is a probe and an INTERSECT term). */
export const MAX_IMPLIED = 8;

/**
 * The metadata equalities every match of `where` satisfies: its top-level `key = 'text'`
 * conjuncts (a quoted literal compares as text, exactly what a metadata condition does; a
 * number literal may compare numerically, so it is left to the expression). Those already in
 * `have` and repeats are skipped, and at most {@link MAX_IMPLIED} are taken: the expression
 * still checks every conjunct, so leaving some out changes no answer.
 */
export function impliedMetaFilters(
  where: WhereExpr | undefined,
  have: MetaFilter[] = [],
): MetaFilter[] {
  const seen = new Set(
    have.map((f) => `${f.op}\u0000${f.key}\u0000${'value' in f ? f.value : ''}`),
  );
  const out: MetaFilter[] = [];
  const walk = (e: WhereExpr): void => {
    if (out.length >= MAX_IMPLIED) return;
    if (e.kind === 'and') {
      walk(e.left);
      walk(e.right);
    } else if (
      e.kind === 'cmp' &&
      e.op === '=' &&
      e.field.kind === 'meta' &&
      typeof e.value === 'string'
    ) {
      const id = `eq\u0000${e.field.key}\u0000${e.value}`;
      if (seen.has(id)) return;
      seen.add(id);
      out.push({ key: e.field.key, op: 'eq', value: e.value });
    }
  };
  if (where) walk(where);
  return out;
}

/** The first plan {@link queryArtifactRows} runs for `q` (exported for the plan tests). */
export function chooseMetaPlan(db: Database.Database, q: ArtifactQuery): MetaPlan {
  const filters = q.meta ?? [];
  // Without metadata conditions, only a where= expression or a type family (`image/*`, whose
  // index range is not in row order: every match would be sorted) makes the window worth it.
  if (filters.length === 0 && !q.where && !q.type?.endsWith('/*')) return { kind: 'intersect' };
  const sizes = filters.map((f) => probe(db, f));
  const drive = sizes.indexOf(Math.min(...sizes));
  if (filters.length > 0 && sizes[drive] < SELECTIVE_BELOW) return { kind: 'driven', drive };
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
