import { describe, expect, it } from 'vitest';
import type { DumpKind, DumpRow } from '../../src/catalog/dump-catalog.js';
import { queryArtifactRowsPg } from '../../src/catalog/postgres/pg-artifact-query.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { artifactQuerySqlPg } from '../../src/catalog/postgres/pg-query-sql.js';
import type { ArtifactRow } from '../../src/catalog/sqlite/rows.js';
import { encodeCursor } from '../../src/catalog/sqlite/query-sql.js';
import type { ArtifactQuery, MetaFilter } from '../../src/core/types.js';
import { DUMP_KINDS } from '../../src/lib/dump-kinds.js';
import { newId } from '../../src/lib/ids.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { SHA, T0, art } from './fixtures.js';

const open = async () => PgCatalog.open({ url: await freshPgDatabase() });

/** artifact_pairs rows that differ from what artifact_meta says they must hold, both ways. */
async function pairsDrift(c: PgCatalog): Promise<unknown[]> {
  return c.db.all(`
    WITH want AS (SELECT artifact_seq, array_agg(key || '=' || value ORDER BY key || '=' || value) AS pairs
                  FROM artifact_meta GROUP BY artifact_seq),
         have AS (SELECT artifact_seq, ARRAY(SELECT unnest(pairs) ORDER BY 1) AS pairs
                  FROM artifact_pairs)
    (SELECT 'missing' AS why, * FROM want EXCEPT SELECT 'missing', * FROM have)
    UNION ALL
    (SELECT 'extra', * FROM have EXCEPT SELECT 'extra', * FROM want)`);
}

describe('PgCatalog artifact_pairs (the GIN index of metadata pairs)', () => {
  it('holds exactly the metadata of every artifact after each write path', async () => {
    const c = await open();
    const meta = (i: number) => ({ env: i % 2 ? 'prod' : 'dev', n: String(i), odd: 'a=b\u0000' });
    await c.addArtifacts(
      [0, 1, 2].map((i) => art({ session: 'batch', name: `b${i}`, meta: meta(i) })),
    );
    const gone = await c.addArtifact(art({ session: 'one', name: 'x', meta: meta(3) }));
    await c.addArtifact(art({ session: 'one', name: 'y', meta: {} }));
    await c.deleteArtifact(gone.id, T0);
    for (let v = 0; v < 3; v++)
      await c.addArtifact(art({ session: 'versions', name: 'v', meta: meta(10 + v) }));
    await c.retention.pruneVersions('versions', 'v', 1, T0);
    await c.addArtifact(art({ session: 'short', name: 's', meta: meta(20), expiresAt: T0 + 5 }));
    await c.retention.sweepExpired(T0 + 10, 100);
    await c.imports.importSession({
      id: 'imp',
      meta: {},
      createdAt: T0,
      sealedAt: null,
      digest: null,
      signature: null,
      sealKey: null,
      expiresAt: null,
      now: T0,
      artifacts: [1, 2].map((version) => ({
        id: newId('a'),
        name: 'n',
        version,
        sha256: SHA('i'),
        size: 10,
        contentType: 'text/plain',
        meta: meta(30 + version),
        createdAt: T0,
        derivedFrom: [],
      })),
    });
    await c.addArtifact(art({ session: 'doomed', name: 'd', meta: meta(40) }));
    await c.retention.deleteSession('doomed', T0);

    // Metadata added to an artifact by a later statement joins its pairs.
    await c.db.run(
      `INSERT INTO artifact_meta (key, value, artifact_seq)
       SELECT 'late', 'x', seq FROM artifacts WHERE name = 'b1'`,
    );

    const count = async (db: PgCatalog) =>
      (await db.db.get<{ n: number }>('SELECT count(*)::int AS n FROM artifact_pairs'))!.n;
    expect(await pairsDrift(c)).toEqual([]);
    // batch 3, one's x deleted (y has no metadata), versions pruned to 1, short swept, imp 2.
    expect(await count(c)).toBe(6);

    // Restore (also what `cairn migrate` writes through) into an empty catalog.
    const b = await open();
    const reader = await c.dump!.open();
    const w = await b.dump!.restore();
    try {
      for (const kind of DUMP_KINDS) {
        for (let cursor: string | null = null; ;) {
          const page: { rows: DumpRow[]; cursor: string | null } = await reader.readAll(
            kind as DumpKind,
            cursor,
            1000,
          );
          await w.write(kind, page.rows as never);
          if ((cursor = page.cursor) === null) break;
        }
      }
      await w.commit();
    } finally {
      await reader.close();
    }
    expect(await pairsDrift(b)).toEqual([]);
    expect(await count(b)).toBe(6);
    await c.close();
    await b.close();
  });

  it('the staged query gives the plain query’s rows through window, index and fallback', async () => {
    const c = await open();
    // 90 artifacts: env and tier never together on prod+gold; `hot` only in the oldest ten;
    // `agent` everywhere but every third; some expired, some in a pinned session.
    const list = Array.from({ length: 90 }, (_, i) => {
      const env = i % 2 ? 'prod' : 'dev';
      return art({
        session: `s${i % 7}`,
        name: `n${i % 11}`,
        createdAt: T0 + i,
        expiresAt: i % 13 === 5 ? T0 + 50 : null,
        meta: {
          env,
          tier: env === 'dev' && i % 4 === 0 ? 'gold' : 'silver',
          agent: i % 3 ? 'claude' : 'gpt',
          ...(i < 10 ? { hot: 'yes' } : {}),
          stage: `st${i % 5}`,
        },
      });
    });
    for (let i = 0; i < list.length; i += 10) await c.addArtifacts(list.slice(i, i + 10));
    const eq = (pairs: [string, string][]): MetaFilter[] =>
      pairs.map(([key, value]) => ({ key, op: 'eq', value }));
    const metas: MetaFilter[][] = [
      eq([
        ['env', 'prod'],
        ['tier', 'gold'],
      ]),
      eq([
        ['env', 'dev'],
        ['tier', 'gold'],
      ]),
      eq([
        ['agent', 'claude'],
        ['env', 'prod'],
      ]),
      eq([
        ['hot', 'yes'],
        ['agent', 'claude'],
      ]),
      eq([
        ['stage', 'st3'],
        ['agent', 'gpt'],
        ['env', 'dev'],
      ]),
      [
        ...eq([
          ['agent', 'claude'],
          ['env', 'prod'],
        ]),
        { key: 'stage', op: 'prefix', value: 'st' },
      ],
      [
        ...eq([
          ['agent', 'claude'],
          ['tier', 'silver'],
        ]),
        { key: 'hot', op: 'exists' },
      ],
      eq([
        ['env', 'prod'],
        ['env', 'prod'],
      ]),
    ];
    const limitsList = [
      { window: 8, candidates: 3 },
      { window: 8, candidates: 100 },
      { window: 30, candidates: 5 },
      { window: 1000, candidates: 5 },
    ];
    let compared = 0;
    for (const now of [T0, T0 + 100]) {
      for (const meta of metas) {
        for (const limit of [1, 3, 50]) {
          for (const cursorSeq of [undefined, 85, 40, 12]) {
            const q: ArtifactQuery = {
              limit,
              meta,
              ...(cursorSeq !== undefined ? { cursor: encodeCursor(cursorSeq) } : {}),
            };
            const plainSql = artifactQuerySqlPg(q, now);
            const plain = await c.db.read(5000, (t) =>
              t.all<ArtifactRow>(plainSql.text, plainSql.params),
            );
            for (const limits of limitsList) {
              const staged = await c.db.read(5000, (t) => queryArtifactRowsPg(t, q, now, limits));
              expect(
                staged.map((r) => r.seq),
                JSON.stringify({ q, limits, now }),
              ).toEqual(plain.map((r) => r.seq));
              compared++;
            }
          }
        }
      }
    }
    expect(compared).toBe(2 * metas.length * 3 * 4 * limitsList.length);
    // The cases reach every stage: a page filled in the window, one from the index, one past
    // the candidate bound, and an empty answer.
    const seqs = async (meta: MetaFilter[], limits: { window: number; candidates: number }) =>
      (await c.db.read(5000, (t) => queryArtifactRowsPg(t, { limit: 3, meta }, T0, limits))).map(
        (r) => r.seq,
      );
    expect(await seqs(metas[2], { window: 30, candidates: 5 })).toHaveLength(4);
    expect(await seqs(metas[3], { window: 8, candidates: 100 })).toEqual([9, 8, 6, 5]);
    expect(await seqs(metas[3], { window: 8, candidates: 3 })).toEqual([9, 8, 6, 5]);
    expect(await seqs(metas[0], { window: 8, candidates: 3 })).toEqual([]);
    await c.close();
  });
});
