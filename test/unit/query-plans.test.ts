import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NEWEST_WINDOW,
  SELECTIVE_BELOW,
  bitmapRows,
  chooseMetaPlan,
  impliedMetaFilters,
  MAX_IMPLIED,
  queryArtifactRows,
} from '../../src/catalog/sqlite/artifact-query-plan.js';
import { MetaBitmaps, SeqBitmap } from '../../src/catalog/sqlite/meta-bitmaps.js';
import { artifactQuerySql, type MetaPlan } from '../../src/catalog/sqlite/query-sql.js';
import type { ArtifactRow } from '../../src/catalog/sqlite/rows.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import type { ArtifactQuery, MetaFilter } from '../../src/core/types.js';
import { parseWhere } from '../../src/core/where-parser.js';
import { bulkArtifacts } from '../helpers/bulk-catalog.js';
import { tempDir } from '../helpers/server.js';

// Enough artifacts that common values pass the selectivity probe and the newest window.
const N = SELECTIVE_BELOW * 3;
let dir: string;
let catalog: SqliteCatalog;
let bitmaps: MetaBitmaps;

/** Artifact i: color (3 values, common), shape (2 values, common), rare (1 in 500), and
 * tier=gold only on odd artifacts with color=red… never with shape=round (no match at all). */
function metaOf(i: number): Record<string, string> {
  const m: Record<string, string> = {
    color: ['red', 'green', 'blue'][i % 3],
    shape: i % 2 === 0 ? 'round' : 'square',
    tier: i % 2 === 1 ? 'gold' : 'silver',
  };
  if (i % 500 === 7) m.rare = 'yes';
  if (i % 10 === 0) m.label = `l${i}`;
  return m;
}

beforeAll(() => {
  dir = tempDir();
  catalog = SqliteCatalog.open({ dir, durability: 'process' });
  bulkArtifacts(catalog.db, N, { metaOf });
});
beforeAll(() => {
  bitmaps = new MetaBitmaps(catalog.db);
});
afterAll(async () => {
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

const eq = (...pairs: [string, string][]): MetaFilter[] =>
  pairs.map(([key, value]) => ({ key, op: 'eq', value }));
const plainIntersect = (q: ArtifactQuery): ArtifactRow[] => {
  const sql = artifactQuerySql(q, Date.now());
  return catalog.db.prepare<Record<string, unknown>, ArtifactRow>(sql.text).all(sql.params);
};
const plan = (q: ArtifactQuery, p: MetaPlan): string[] => {
  const sql = artifactQuerySql(q, Date.now(), p);
  return catalog.db
    .prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${sql.text}`)
    .all(sql.params)
    .map((r) => r.detail);
};

const QUERIES: [string, MetaFilter[], MetaPlan['kind']][] = [
  ['selective and common', eq(['rare', 'yes'], ['color', 'red']), 'driven'],
  ['common and selective (order does not matter)', eq(['color', 'red'], ['rare', 'yes']), 'driven'],
  ['two common values that match often', eq(['color', 'red'], ['shape', 'round']), 'window'],
  [
    'two common values that never match together',
    eq(['shape', 'round'], ['tier', 'gold']),
    'window',
  ],
  [
    'a prefix and a bare key',
    [
      { key: 'label', op: 'prefix', value: 'l1' },
      { key: 'rare', op: 'exists' },
    ],
    'driven',
  ],
];

describe('artifact metadata query plans', () => {
  it.each(QUERIES)('%s: picks the %s plan', (_name, meta, kind) => {
    expect(chooseMetaPlan(catalog.db, { meta, limit: 50 }).kind).toBe(kind);
  });

  it('drives a selective condition from its (key, value) index range, lookups for the rest', () => {
    const details = plan(
      { meta: eq(['color', 'red'], ['rare', 'yes']), limit: 50 },
      {
        kind: 'driven',
        drive: 1,
      },
    );
    expect(details).toContain('SEARCH m USING PRIMARY KEY (key=? AND value=?)');
    expect(details.some((d) => d.startsWith('SEARCH artifact_meta EXISTS USING'))).toBe(true);
    expect(details.join('\n')).not.toMatch(/\bSCAN\b|TEMP B-TREE FOR ORDER BY/);
  });

  it('walks the newest artifacts by rowid, newest first, for unselective pairs', () => {
    const details = plan(
      { meta: eq(['color', 'red'], ['shape', 'round']), limit: 50 },
      { kind: 'window', floor: N - NEWEST_WINDOW },
    );
    expect(details[0]).toBe('SEARCH a USING INTEGER PRIMARY KEY (rowid>?)');
    expect(details.filter((d) => /EXISTS USING .*INDEX/.test(d))).toHaveLength(2);
    expect(details.join('\n')).not.toMatch(/\bSCAN\b|TEMP B-TREE FOR ORDER BY/);
  });

  it('finishes below the window with one merge INTERSECT of index ranges', () => {
    const details = plan(
      { meta: eq(['shape', 'round'], ['tier', 'gold']), limit: 50 },
      { kind: 'intersect', below: N - NEWEST_WINDOW },
    );
    expect(details).toContain('MERGE (INTERSECT)');
    expect(details.join('\n')).not.toMatch(/\bSCAN\b|TEMP B-TREE FOR ORDER BY/);
  });

  it.each(QUERIES)(
    '%s: answers exactly what the plain INTERSECT answers, page by page',
    (_n, meta) => {
      for (const limit of [1, 50, 1000]) {
        let cursor: string | undefined;
        for (let pageNo = 0; pageNo < 4; pageNo++) {
          const q: ArtifactQuery = { meta, limit, cursor };
          const got = queryArtifactRows(catalog.db, q, Date.now()).map((r) => r.seq);
          const want = plainIntersect(q).map((r) => r.seq);
          expect(got).toEqual(want);
          const viaBitmaps = queryArtifactRows(catalog.db, q, Date.now(), bitmaps);
          expect(viaBitmaps.map((r) => r.seq)).toEqual(want);
          if (got.length <= limit) break;
          cursor = Buffer.from(`c1.${got[limit - 1]}`).toString('base64url');
        }
      }
    },
  );

  it('finds matches older than the newest window (a rare pair spread over the whole table)', () => {
    const rows = queryArtifactRows(
      catalog.db,
      { meta: eq(['color', 'red'], ['shape', 'round']), limit: N },
      Date.now(),
    );
    expect(rows.length).toBe(Math.floor(N / 6));
    expect(rows[rows.length - 1].seq).toBeLessThan(N - NEWEST_WINDOW);
  });

  it('answers a pair of large sets that never meet from their bitmaps alone', () => {
    const q: ArtifactQuery = { meta: eq(['shape', 'round'], ['tier', 'gold']), limit: 50 };
    const own = new MetaBitmaps(catalog.db);
    // Asked once: not built (a one-off query keeps the INTERSECT); asked again: built.
    expect(bitmapRows(catalog.db, q, Date.now(), own, N + 1, 51)).toBeNull();
    expect(own.size).toBe(0);
    const r = bitmapRows(catalog.db, q, Date.now(), own, N + 1, 51);
    expect(r).toMatchObject({ rows: [], done: true });
    expect(own.size).toBe(2);
  });

  it('looks bitmap candidates up by rowid, also within one session', () => {
    for (const session of [undefined, 's']) {
      const details = plan(
        { meta: eq(['shape', 'round'], ['tier', 'gold']), session, limit: 50 },
        { kind: 'candidates', seqs: [5, 3, 1] },
      );
      expect(details).toContain('SEARCH a USING INTEGER PRIMARY KEY (rowid=?)');
      expect(details.join('\n')).not.toMatch(/SCAN a\b|SEARCH a USING (COVERING )?INDEX/);
    }
  });

  it('keeps the INTERSECT when the conditions’ bitmaps cannot all fit the budget', () => {
    const q: ArtifactQuery = { meta: eq(['shape', 'round'], ['tier', 'gold']), limit: 50 };
    // One map of this catalog's size fits 4 KiB; two do not.
    const small = new MetaBitmaps(catalog.db, { maxBytes: 4096 });
    for (let i = 0; i < 3; i++)
      expect(bitmapRows(catalog.db, q, Date.now(), small, N + 1, 51)).toBeNull();
    expect(small.size).toBe(0);
    expect(queryArtifactRows(catalog.db, q, Date.now(), small)).toEqual([]);
  });

  it('ANDs bitmaps word by word, newest first, below a bound', () => {
    const a = new SeqBitmap([1, 31, 32, 33, 63, 64, 100, 5000]);
    const b = new SeqBitmap([0, 31, 33, 63, 64, 99, 100, 4999, 5000]);
    expect(SeqBitmap.intersectBelow([a, b], 10_000, 100)).toEqual([5000, 100, 64, 63, 33, 31]);
    expect(SeqBitmap.intersectBelow([a, b], 64, 100)).toEqual([63, 33, 31]);
    expect(SeqBitmap.intersectBelow([a, b], 100, 2)).toEqual([64, 63]);
    expect(SeqBitmap.intersectBelow([a, b], 31, 100)).toEqual([]);
  });

  it('keeps bitmaps up to date with pushes and rechecks deleted candidates', async () => {
    const q: ArtifactQuery = { meta: eq(['shape', 'round'], ['tier', 'gold']), limit: 50 };
    // The writer's bitmaps: built by the second such query, then maintained by addArtifact.
    // (The catalog's queries run on read workers, whose bitmaps follow the rows instead: see
    // followed-bitmaps.test.ts.)
    for (let i = 0; i < 2; i++) {
      expect(queryArtifactRows(catalog.db, q, Date.now(), catalog.bitmaps)).toEqual([]);
      expect((await catalog.queryArtifacts(q, Date.now())).items).toEqual([]);
    }
    expect(catalog.bitmaps.size).toBeGreaterThanOrEqual(2);
    const added = await catalog.addArtifact({
      id: 'a_ZZZZZZZZZZZZZZZZZZZZZZZZZZ',
      session: 's',
      name: 'late',
      sha256: '00',
      size: 1,
      contentType: 'text/plain',
      meta: { shape: 'round', tier: 'gold' },
      createdAt: N + 1,
      expiresAt: null,
      derivedFrom: [],
      sessionExpiresAt: null,
    });
    const seq = N + 1;
    expect(catalog.bitmaps.get('shape', 'round')?.has(seq)).toBe(true);
    const below = bitmapRows(catalog.db, q, Date.now(), catalog.bitmaps, seq + 1, 51);
    expect(below?.rows.map((r) => r.id)).toEqual([added.id]);
    // A deleted artifact keeps its bit; the SQL recheck drops it.
    const red = { meta: eq(['color', 'red'], ['shape', 'round']), limit: N };
    queryArtifactRows(catalog.db, red, Date.now(), catalog.bitmaps);
    const before = queryArtifactRows(catalog.db, red, Date.now(), catalog.bitmaps);
    expect(catalog.bitmaps.get('color', 'red')).not.toBeNull();
    const victim = before[before.length - 1];
    await catalog.deleteArtifact(victim.id, Date.now());
    expect(catalog.bitmaps.get('color', 'red')?.has(victim.seq)).toBe(true);
    const after = queryArtifactRows(catalog.db, red, Date.now(), catalog.bitmaps);
    expect(after.map((r) => r.seq)).toEqual(before.slice(0, -1).map((r) => r.seq));
    expect(after.map((r) => r.seq)).toEqual(plainIntersect(red).map((r) => r.seq));
  });

  it('walks the newest window per row for a where= expression without metadata conditions', () => {
    const q: ArtifactQuery = { where: parseWhere("tier != 'gold'"), limit: 50 };
    const p = chooseMetaPlan(catalog.db, q);
    expect(p.kind).toBe('window');
    const details = plan(q, p).join('\n');
    expect(details).toMatch(/SEARCH a USING INTEGER PRIMARY KEY \(rowid>\?\)/);
    expect(details).toMatch(/EXISTS USING COVERING INDEX artifact_meta_owner/);
    expect(details).not.toMatch(/LIST SUBQUERY|TEMP B-TREE FOR ORDER BY/);
  });

  it('answers a where= that repeats common equalities a couple of hundred times', () => {
    const w = ["shape='round'", "shape='square'", ...Array<string>(200).fill("tier='silver'")].join(
      'and ',
    );
    const q: ArtifactQuery = { where: parseWhere(w), limit: 50 };
    for (const maps of [undefined, bitmaps, bitmaps])
      expect(queryArtifactRows(catalog.db, q, Date.now(), maps)).toEqual(plainIntersect(q));
  });

  it('takes the text equalities a where= expression implies as metadata conditions', () => {
    const implied = (w: string) => impliedMetaFilters(parseWhere(w));
    expect(
      implied("color = 'red' and (shape = 'round' or tier = 'gold') and meta.rare = 'yes'"),
    ).toEqual(eq(['color', 'red'], ['rare', 'yes']));
    // Not under or/not, not a number literal (compared numerically), not a column.
    expect(implied("color = 'red' or shape = 'round'")).toEqual([]);
    expect(implied("not color = 'red' and shape = 'round'")).toEqual(eq(['shape', 'round']));
    expect(implied("tier = 1 and name = 'f1'")).toEqual([]);
    // Repeats and explicit filters are not taken twice, and a long expression gives at most 8.
    expect(
      impliedMetaFilters(parseWhere("a = 'x' and a = 'x' and b = 'y'"), eq(['b', 'y'])),
    ).toEqual(eq(['a', 'x']));
    const long = Array.from({ length: 400 }, (_, i) => `k${i % 50}=''`).join('and ');
    expect(implied(long)).toHaveLength(MAX_IMPLIED);
  });

  it.each([
    "color = 'red' and (shape = 'round' or tier = 'gold')",
    "shape = 'round' and tier = 'gold'",
    "rare = 'yes' and color != 'blue'",
    "not color = 'red' and shape = 'round'",
    // No equality to drive from: the newest window per row, then the owner lists below it.
    "tier != 'gold'",
    'rare exists',
    "shape in ('round') or color ~ 'gr*'",
    "not (rare exists or tier = 'gold')",
  ])('where %s: answers exactly what the expression alone answers, page by page', (w) => {
    for (const limit of [1, 50, 1000]) {
      let cursor: string | undefined;
      for (let pageNo = 0; pageNo < 3; pageNo++) {
        const q: ArtifactQuery = { where: parseWhere(w), limit, cursor };
        const want = plainIntersect(q).map((r) => r.seq);
        for (const maps of [undefined, bitmaps, bitmaps]) {
          expect(queryArtifactRows(catalog.db, q, Date.now(), maps).map((r) => r.seq)).toEqual(
            want,
          );
        }
        if (want.length <= limit) break;
        cursor = Buffer.from(`c1.${want[limit - 1]}`).toString('base64url');
      }
    }
  });
});
