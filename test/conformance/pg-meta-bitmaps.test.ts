import { describe, expect, it } from 'vitest';
import type { DumpKind, DumpRow } from '../../src/catalog/dump-catalog.js';
import {
  queryArtifactRowsPg,
  type PairLimits,
} from '../../src/catalog/postgres/pg-artifact-query.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { artifactQuerySqlPg } from '../../src/catalog/postgres/pg-query-sql.js';
import type { ArtifactRow } from '../../src/catalog/sqlite/rows.js';
import { encodeCursor } from '../../src/catalog/sqlite/query-sql.js';
import type { ArtifactQuery, MetaFilter } from '../../src/core/types.js';
import type { Queryable } from '../../src/catalog/postgres/pg-db.js';
import { DUMP_KINDS } from '../../src/lib/dump-kinds.js';
import { newId } from '../../src/lib/ids.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { SHA, T0, art } from './fixtures.js';

// PgMetaBitmaps (see pg-meta-bitmaps.ts): one node's in-memory bitmaps stay a superset of the
// truth while other instances write to the same database, so the staged query's answers are the
// plain query's. Window 0: every row below the newest comes from the bitmaps.
const ALL_BITMAPS: PairLimits = { window: 0, candidates: 100_000 };

const eq = (pairs: [string, string][]): MetaFilter[] =>
  pairs.map(([key, value]) => ({ key, op: 'eq', value }));

const PAIR = eq([
  ['env', 'prod'],
  ['tier', 'gold'],
]);

const METAS: MetaFilter[][] = [
  PAIR,
  eq([
    ['env', 'dev'],
    ['tier', 'gold'],
  ]),
  eq([
    ['agent', 'claude'],
    ['env', 'prod'],
  ]),
  eq([
    ['agent', 'gpt'],
    ['env', 'dev'],
    ['tier', 'silver'],
  ]),
  [
    ...eq([
      ['agent', 'claude'],
      ['tier', 'silver'],
    ]),
    { key: 'stage', op: 'prefix', value: 'st' },
  ],
];

async function staged(c: PgCatalog, q: ArtifactQuery, now: number, limits = ALL_BITMAPS) {
  const rows = await c.db.read(5000, (t) => queryArtifactRowsPg(t, q, now, limits, c.bitmaps));
  return rows.map((r) => r.id);
}

async function plain(c: PgCatalog, q: ArtifactQuery, now: number) {
  const sql = artifactQuerySqlPg(q, now);
  const rows = await c.db.read(5000, (t) => t.all<ArtifactRow>(sql.text, sql.params));
  return rows.map((r) => r.id);
}

/** Compares every query of METAS (several pages and limits) on `c` with the plain query. */
async function compareAll(c: PgCatalog, now: number, top: number): Promise<number> {
  let compared = 0;
  for (const meta of METAS)
    for (const limit of [1, 3, 500])
      for (const cursorSeq of [undefined, Math.floor(top / 2), 7])
        for (const limits of [
          ALL_BITMAPS,
          { window: 0, candidates: 3 },
          { window: 5, candidates: 100 },
        ]) {
          const q: ArtifactQuery = {
            limit,
            meta,
            ...(cursorSeq !== undefined ? { cursor: encodeCursor(cursorSeq) } : {}),
          };
          expect(await staged(c, q, now, limits), JSON.stringify({ q, limits, now })).toEqual(
            await plain(c, q, now),
          );
          compared++;
        }
  return compared;
}

function metaOf(i: number): Record<string, string> {
  const env = i % 2 ? 'prod' : 'dev';
  return {
    env,
    tier: env === 'dev' && i % 4 === 0 ? 'gold' : i % 5 === 0 ? 'gold' : 'silver',
    agent: i % 3 ? 'claude' : 'gpt',
    stage: `st${i % 5}`,
  };
}

/** Every artifact of `from` written into the empty catalog `to` through a dump restore. */
async function restore(from: PgCatalog, to: PgCatalog): Promise<void> {
  const reader = await from.dump.open();
  const w = await to.dump.restore();
  try {
    for (const kind of DUMP_KINDS)
      for (let cursor: string | null = null; ;) {
        const page: { rows: DumpRow[]; cursor: string | null } = await reader.readAll(
          kind as DumpKind,
          cursor,
          1000,
        );
        await w.write(kind, page.rows as never);
        if ((cursor = page.cursor) === null) break;
      }
    await w.commit();
  } finally {
    await reader.close();
  }
}

/** A statement's answer held back: `hasRun` once it arrived, passed on at `release()`. */
interface Hold {
  which: 'get' | 'all';
  ran: () => void;
  hasRun: Promise<void>;
  open: Promise<void>;
  release: () => void;
}

function hold(which: 'get' | 'all'): Hold {
  let ran!: () => void;
  let release!: () => void;
  const hasRun = new Promise<void>((res) => (ran = res));
  const open = new Promise<void>((res) => (release = res));
  return { which, ran, hasRun, open, release };
}

describe('PgCatalog metadata bitmaps (one per instance, several instances on one database)', () => {
  it('answers as the plain query after pushes from another instance, deletes, expiry, new versions, import', async () => {
    const url = await freshPgDatabase();
    const a = await PgCatalog.open({ url });
    const b = await PgCatalog.open({ url });
    let n = 0;
    const push = (c: PgCatalog, over: { expiresAt?: number | null } = {}) => {
      const i = n++;
      return c.addArtifact(
        art({
          session: `s${i % 4}`,
          name: `n${i % 9}`,
          createdAt: T0 + i,
          meta: metaOf(i),
          ...over,
        }),
      );
    };
    const first = [];
    for (let i = 0; i < 60; i++)
      first.push(await push(a, { expiresAt: i % 11 === 3 ? T0 + 50 : null }));
    // Each value asked for twice: the second builds its bitmap.
    for (const meta of METAS) for (let k = 0; k < 2; k++) await staged(b, { limit: 5, meta }, T0);
    const built = b.bitmaps.size;
    expect(built).toBe(6);
    expect(await compareAll(b, T0, n)).toBe(METAS.length * 27);

    // Another instance writes: pushes (new versions of the same names), numbered and not yet
    // numbered events both, a batch, deletes, a pruned name, expiry and its sweep, an import.
    for (let i = 0; i < 20; i++) await push(a);
    await a.events.tail();
    await a.addArtifacts(
      Array.from({ length: 8 }, (_, k) =>
        art({ session: 'batch', name: `b${k}`, meta: metaOf(k) }),
      ),
    );
    for (const gone of first.slice(0, 12)) await a.deleteArtifact(gone.id, T0);
    await a.retention.pruneVersions('s1', 'n1', 1, T0);
    for (let i = 0; i < 10; i++) await push(a, { expiresAt: T0 + 60 });
    await a.retention.sweepExpired(T0 + 55, 100);
    await a.imports.importSession({
      id: 'imp',
      meta: {},
      createdAt: T0,
      sealedAt: null,
      digest: null,
      signature: null,
      sealKey: null,
      expiresAt: null,
      now: T0,
      artifacts: [1, 2, 3].map((version) => ({
        id: newId('a'),
        name: 'imported',
        version,
        sha256: SHA('i'),
        size: 10,
        contentType: 'text/plain',
        meta: metaOf(version * 5),
        createdAt: T0,
        derivedFrom: [],
      })),
    });
    const top = (await b.db.get<{ m: number }>('SELECT max(seq) AS m FROM artifacts'))!.m;
    for (const now of [T0, T0 + 55, T0 + 100])
      expect(await compareAll(b, now, top)).toBeGreaterThan(0);
    // They were caught up, never dropped and rebuilt.
    expect(b.bitmaps.counts).toEqual({ built, dropped: 0 });
    await a.close();
    await b.close();
  });

  it('a push acknowledged by one instance is found through the bitmaps of another right after, while others push', async () => {
    const url = await freshPgDatabase();
    const writers = [await PgCatalog.open({ url }), await PgCatalog.open({ url })];
    const reader = await PgCatalog.open({ url });
    await writers[0].addArtifact(art({ session: 'seed', meta: metaOf(5) }));
    for (let k = 0; k < 2; k++) await staged(reader, { limit: 1000, meta: PAIR }, T0);
    expect(reader.bitmaps.size).toBe(2);
    let stop = false;
    // Event positions given all along (as SSE readers on any node do): rows are read both as
    // numbered and as not numbered yet.
    const promoter = (async () => {
      while (!stop) await writers[1].events.tail();
    })();
    let found = 0;
    for (let round = 0; round < 25; round++) {
      // Now and then the bitmaps start over, so builds race other queries' catch-ups.
      if (round % 4 === 3) reader.bitmaps.clear();
      await Promise.all(
        Array.from({ length: 6 }, async (_, k) => {
          const w = writers[k % 2];
          // The pair, and pushes around it that hold one of its values (all of them overlap).
          const [mine] = await Promise.all([
            w.addArtifact(
              art({ session: `r${round}`, name: `p${k}`, meta: { env: 'prod', tier: 'gold' } }),
            ),
            w.addArtifact(
              art({ session: `o${k}`, name: `x${round}`, meta: { env: 'prod', tier: 'silver' } }),
            ),
          ]);
          const seqs = await staged(reader, { limit: 1000, meta: PAIR }, T0);
          expect(seqs, `round ${round}`).toContain(mine.id);
          found++;
        }),
      );
    }
    stop = true;
    await promoter;
    expect(found).toBe(150);
    expect(reader.bitmaps.counts.dropped).toBe(0);
    expect(reader.bitmaps.counts.built).toBeGreaterThan(2);
    expect(await staged(reader, { limit: 1000, meta: PAIR }, T0)).toEqual(
      await plain(reader, { limit: 1000, meta: PAIR }, T0),
    );
    for (const c of [...writers, reader]) await c.close();
  });

  it('drops its bitmaps when artifacts arrive without events (a restore) or events were trimmed past them', async () => {
    const source = await PgCatalog.open({ url: await freshPgDatabase() });
    for (let i = 0; i < 30; i++)
      await source.addArtifact(art({ session: `s${i % 3}`, name: `n${i}`, meta: metaOf(i) }));
    const url = await freshPgDatabase();
    const target = await PgCatalog.open({ url });
    const reader = await PgCatalog.open({ url });
    // Bitmaps built over a catalog emptied since: a restore may write into it.
    await target.addArtifact(
      art({ session: 'old', sha256: SHA('z'), meta: { env: 'prod', tier: 'gold' } }),
    );
    for (let k = 0; k < 2; k++) await staged(reader, { limit: 100, meta: PAIR }, T0);
    expect(reader.bitmaps.size).toBe(2);
    await target.retention.deleteSession('old', T0);
    await restore(source, target);
    const want = await plain(reader, { limit: 100, meta: PAIR }, T0);
    expect(want.length).toBeGreaterThan(0);
    expect(await staged(reader, { limit: 100, meta: PAIR }, T0)).toEqual(want);
    expect(reader.bitmaps.counts).toEqual({ built: 2, dropped: 1 });

    // Built again, then events numbered and trimmed beyond what they followed.
    for (let k = 0; k < 2; k++) await staged(reader, { limit: 100, meta: PAIR }, T0);
    expect(reader.bitmaps.size).toBe(2);
    await target.addArtifact(art({ session: 'late', meta: { env: 'prod', tier: 'gold' } }));
    await target.events.tail();
    expect(await target.events.trim({ before: Date.now() + 1000, keep: 0 })).toBeGreaterThan(0);
    const after = await plain(reader, { limit: 100, meta: PAIR }, T0);
    expect(after).toHaveLength(want.length + 1);
    expect(await staged(reader, { limit: 100, meta: PAIR }, T0)).toEqual(after);
    expect(reader.bitmaps.counts).toEqual({ built: 4, dropped: 2 });
    for (const c of [source, target, reader]) await c.close();
  });

  it('a bitmap built in an older snapshot while another query catches up is not taken as caught up', async () => {
    const url = await freshPgDatabase();
    const w = await PgCatalog.open({ url });
    const r = await PgCatalog.open({ url });
    const bm = r.bitmaps;
    const seqOf = async (id: string) =>
      (await r.db.get<{ seq: number }>('SELECT seq FROM artifacts WHERE id = $1', [id]))!.seq;
    /**
     * Runs `f` in a read transaction of `r`; with `hold`, the answers of its `get` (a build) or
     * `all` (a catch-up) statements are held back until `hold.open`, after `hold.ran` resolved.
     */
    const held = <T>(f: (t: Queryable) => Promise<T>, hold?: Hold) =>
      r.db.read(5000, (t) => {
        const wait = async <R>(which: 'get' | 'all', answer: R): Promise<R> => {
          if (hold?.which !== which) return answer;
          hold.ran();
          await hold.open;
          return answer;
        };
        return f({
          all: async (sql, p) => wait('all', await t.all(sql, p)) as never,
          get: async (sql, p) => wait('get', await t.get(sql, p)) as never,
          run: (sql, p) => t.run(sql, p),
        });
      });
    const use = (key: string, value: string, hold?: Hold) =>
      held(async (t) => bm.get(t, key, value, await bm.catchUp(t)), hold);
    const push = async (meta: Record<string, string>) => {
      const a = await w.addArtifact(art({ session: 's', name: newId('n'), meta }));
      await w.events.tail();
      return seqOf(a.id);
    };
    await push({ env: 'prod' });
    for (let k = 0; k < 2; k++) await use('env', 'prod');
    await use('agent', 'x');
    // 1. agent=x is built in a snapshot taken now; its answer is held back.
    const h1 = hold('get');
    const build = use('agent', 'x', h1);
    await h1.hasRun;
    // 2. x1 commits; env=prod catches up past it.
    const x1 = await push({ env: 'prod', agent: 'x' });
    expect((await use('env', 'prod'))?.has(x1)).toBe(true);
    // 3. x2 commits; a catch-up reads it (from env=prod's mark, past x1), its answer held back.
    const x2 = await push({ env: 'prod', agent: 'x' });
    const h3 = hold('all');
    const catchUp = held((t) => bm.catchUp(t), h3);
    await h3.hasRun;
    // 4. The old build lands, then that catch-up: it must not count agent=x as past x1.
    h1.release();
    expect((await build)?.has(x1)).toBe(false);
    h3.release();
    await catchUp;
    const agent = await use('agent', 'x');
    expect(agent?.has(x1)).toBe(true);
    expect(agent?.has(x2)).toBe(true);
    expect(bm.counts.dropped).toBe(0);
    await w.close();
    await r.close();
  });
});
