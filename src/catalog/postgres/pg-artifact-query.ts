import type { ArtifactQuery } from '../../core/types.js';
import { decodeCursor } from '../sqlite/query-sql.js';
import type { ArtifactRow } from '../sqlite/rows.js';
import type { Queryable } from './pg-db.js';
import { pgText } from './pg-glob.js';
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
 */
export async function queryArtifactRowsPg(
  t: Queryable,
  q: ArtifactQuery,
  now: number,
  limits: PairLimits = PAIR_LIMITS,
): Promise<ArtifactRow[]> {
  const pairs = [
    ...new Set((q.meta ?? []).filter((f) => f.op === 'eq').map((f) => pairOf(f.key, f.value))),
  ];
  if (pairs.length < 2 || q.session !== undefined) {
    const sql = artifactQuerySqlPg(q, now);
    return t.all<ArtifactRow>(sql.text, sql.params);
  }
  const top =
    q.cursor !== undefined
      ? decodeCursor(q.cursor)
      : ((await t.get<{ top: number }>('SELECT coalesce(max(seq), 0) + 1 AS top FROM artifacts'))
          ?.top ?? 1);
  const floor = top - limits.window;
  const newest = artifactQuerySqlPg(q, now, { from: floor });
  const rows = await t.all<ArtifactRow>(newest.text, newest.params);
  if (rows.length > q.limit || floor <= 1) return rows;

  const limit = q.limit + 1 - rows.length;
  const found = await t.all<{ seq: number }>(
    'SELECT cairn_pairs_owners(@pairs::text[], @floor, @cap) AS seq',
    { pairs, floor, cap: limits.candidates + 1 },
  );
  if (found.length === 0) return rows;
  const rest =
    found.length > limits.candidates
      ? artifactQuerySqlPg(q, now, { below: floor, limit })
      : artifactQuerySqlPg(q, now, { among: found.map((r) => r.seq), limit });
  return rows.concat(await t.all<ArtifactRow>(rest.text, rest.params));
}

/** A metadata equality as an element of artifact_pairs.pairs (keys hold no '='). */
function pairOf(key: string, value: string): string {
  return `${key}=${pgText(value)}`;
}
