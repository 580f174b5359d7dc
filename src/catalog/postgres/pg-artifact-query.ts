import type { ArtifactQuery } from '../../core/types.js';
import type { ArtifactRow } from '../sqlite/rows.js';
import { SeqBitmap } from '../seq-bitmap.js';
import type { Queryable } from './pg-db.js';
import { pgText } from './pg-glob.js';
import type { PgMetaBitmaps } from './pg-meta-bitmaps.js';
import { artifactQuerySqlPg } from './pg-query-sql.js';

/** How far a staged query looks before and through the pairs index. */
export interface PairLimits {
  /** Newest artifacts (by seq) looked at row by row before the pairs index is asked. */
  window: number;
  /** Candidates taken from the pairs index; more, and the plain query runs below the window. */
  candidates: number;
}

/** The limits {@link queryArtifactRowsPg} uses unless given others (SQLite's, see artifact-query-plan.ts). */
export const PAIR_LIMITS: PairLimits = { window: 4096, candidates: 16_384 };

/**
 * The rows of an artifact query (up to `q.limit + 1`, newest first: exactly what the plain
 * query of {@link artifactQuerySqlPg} gives), inside the caller's read transaction.
 *
 * With two or more metadata equalities (and no `session`, which drives by itself), the plain
 * query would walk the pairs' match lists side by side: cheap when they share many owners,
 * but through every entry of both when they share none (`env=prod` and `tier=gold`, 750,000
 * entries, 200 ms at 1,000,000 artifacts). So it runs in stages:
 * 1. the newest `window` artifacts, row by row (two common values usually fill the page here);
 * 2. below them, the owners holding every pair, from the GIN index of artifact_pairs (one
 *    scan intersecting the pairs' posting lists, whatever their sizes), at most `candidates`;
 * 3. those candidates' rows, every condition checked again; or, past that bound (pairs common
 *    below the window but not in it), the plain query below the window.
 * With `bitmaps` (the catalog's, see PgMetaBitmaps) holding every pair, stage 2 is instead a
 * word-wise AND in memory (a pair that never meets another: no statement at all past the
 * bitmaps' catch-up), its candidates checked in SQL 256 at a time; past `candidates` of them,
 * the plain query below the last one checked.
 */
export async function queryArtifactRowsPg(
  t: Queryable,
  q: ArtifactQuery,
  now: number,
  limits: PairLimits = PAIR_LIMITS,
  bitmaps?: PgMetaBitmaps,
): Promise<ArtifactRow[]> {
  const pairs = [
    ...new Set((q.meta ?? []).filter((f) => f.op === 'eq').map((f) => pairOf(f.key, f.value))),
  ];
  if (pairs.length < 2 || q.session !== undefined) {
    const sql = artifactQuerySqlPg(q, now);
    return t.all<ArtifactRow>(sql.text, sql.params);
  }
  // 1. The window, with its floor: the newest seq (or the cursor) less `window`. The rows come
  // joined to the floor, so a window without a match still gives it (one row of nulls).
  const top =
    q.cursor !== undefined ? '@cursor' : '(SELECT coalesce(max(seq), 0) + 1 FROM artifacts)';
  const newest = artifactQuerySqlPg(q, now, { from: 'f.floor' });
  const first = await t.all<Staged>(
    `SELECT f.floor AS cairn_stage, r.* FROM (SELECT ${top} - @window::bigint AS floor) f
     LEFT JOIN LATERAL (${newest.text}) r ON true ORDER BY r.seq DESC`,
    { ...newest.params, window: limits.window },
  );
  const floor = Number(first[0].cairn_stage);
  const rows = rowsOf(first);
  if (rows.length > q.limit || floor <= 1) return rows;

  const limit = q.limit + 1 - rows.length;
  if (bitmaps) {
    const found = await bitmapRows(t, q, now, bitmaps, floor, limit, limits);
    if (found) {
      rows.push(...found.rows);
      if (found.done) return rows;
      const rest = artifactQuerySqlPg(q, now, {
        below: found.below,
        limit: limit - found.rows.length,
      });
      return rows.concat(await t.all<ArtifactRow>(rest.text, rest.params));
    }
  }

  // 2 and 3. The owners of every pair below the window from the GIN index, and their rows
  // (none when there are more than `candidates`: then the plain query below the window).
  // The equalities are not checked again: the index answered them in this statement's snapshot
  // (a recheck may walk a whole pair's match list to meet the candidates).
  const rest = { ...q, meta: q.meta?.filter((f) => f.op !== 'eq') };
  const among = artifactQuerySqlPg(rest, now, { among: 'c.seqs', limit });
  const second = await t.all<Staged>(
    `WITH c AS MATERIALIZED (
       SELECT ARRAY(SELECT cairn_pairs_owners(@pairs::text[], @floor, @cap)) AS seqs)
     SELECT cardinality(c.seqs) AS cairn_stage, r.* FROM c LEFT JOIN LATERAL (${among.text}) r ON cardinality(c.seqs) < @cap ORDER BY r.seq DESC`,
    { ...among.params, pairs, floor, cap: limits.candidates + 1 },
  );
  if (Number(second[0].cairn_stage) <= limits.candidates) return rows.concat(rowsOf(second));
  const below = artifactQuerySqlPg(q, now, { below: floor, limit });
  return rows.concat(await t.all<ArtifactRow>(below.text, below.params));
}

/** Candidates rechecked per statement. */
const CANDIDATE_CHUNK = 256;

/**
 * Up to `want` rows below seq `below` from the AND of the bitmaps of `q`'s metadata equalities,
 * newest first, every candidate checked against the whole query in SQL; null unless each
 * equality's bitmap is held and caught up (see PgMetaBitmaps.get) and they fit the budget.
 * `done` is false if `limits.candidates` were checked first; the rest is then below `below`.
 */
async function bitmapRows(
  t: Queryable,
  q: ArtifactQuery,
  now: number,
  bitmaps: PgMetaBitmaps,
  below: number,
  want: number,
  limits: PairLimits,
): Promise<{ rows: ArtifactRow[]; done: boolean; below: number } | null> {
  const eqs = new Map<string, { key: string; value: string }>();
  for (const f of q.meta ?? [])
    if (f.op === 'eq') eqs.set(`${f.key}\u0000${f.value}`, { key: f.key, value: f.value });
  // The highest seq is about the window's top: the floor is `window` below it.
  if (!bitmaps.fits(eqs.size, below + limits.window)) return null;
  const fresh = await bitmaps.catchUp(t);
  const maps: SeqBitmap[] = [];
  // Each is asked for, so that all are built together on their second query.
  for (const f of eqs.values()) {
    const map = await bitmaps.get(t, f.key, f.value, fresh);
    if (map) maps.push(map);
  }
  if (maps.length < eqs.size) return null;
  const rows: ArtifactRow[] = [];
  for (let checked = 0; rows.length < want;) {
    if (checked >= limits.candidates) return { rows, done: false, below };
    const seqs = SeqBitmap.intersectBelow(maps, below, CANDIDATE_CHUNK);
    if (seqs.length === 0) break;
    checked += seqs.length;
    const sql = artifactQuerySqlPg(q, now, {
      among: '@cands::bigint[]',
      limit: want - rows.length,
    });
    rows.push(...(await t.all<ArtifactRow>(sql.text, { ...sql.params, cands: seqs })));
    below = seqs[seqs.length - 1];
  }
  return { rows, done: true, below };
}

/** A row of a staged statement: the stage's figure, and an artifact's columns (or nulls). */
type Staged = ArtifactRow & { cairn_stage: number | string };

/** The artifact rows of a staged statement's result, without its figure. */
function rowsOf(staged: Staged[]): ArtifactRow[] {
  return staged
    .filter((r) => r.seq !== null)
    .map(({ cairn_stage: _, ...row }) => row as ArtifactRow);
}

/** A metadata equality as an element of artifact_pairs.pairs (keys hold no '='). */
function pairOf(key: string, value: string): string {
  return `${key}=${pgText(value)}`;
}
