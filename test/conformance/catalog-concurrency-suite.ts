import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setImmediate as tick } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { BlobStore } from '../../src/blobs/blob-store.js';
import type { Catalog, StoredArtifact } from '../../src/catalog/catalog.js';
import { ArtifactService } from '../../src/core/artifact-service.js';
import { Idempotency } from '../../src/core/idempotency.js';
import type { CairnError } from '../../src/lib/errors.js';
import { T0, SHA, art, code } from './fixtures.js';

/** Two catalogs over one store, as two processes (or nodes) would open it, with their blobs. */
export interface CatalogPair {
  a: Catalog;
  b: Catalog;
  /** A blob store for each side, over the same bytes. */
  blobsA: BlobStore;
  blobsB: BlobStore;
  close: () => Promise<void>;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Waits `n` turns of the event loop, so that racing work interleaves differently per round. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

/**
 * Concurrency cases every Catalog implementation must pass: each calls the interfaces of two
 * instances over one store at once, many rounds, so that their writes really interleave.
 */
export function runCatalogConcurrencySuite(makePair: () => Promise<CatalogPair>): void {
  it('racing pushes of one name from two writers get dense, unique versions', async () => {
    const { a, b, close } = await makePair();
    const rounds = 20;
    const per = 10;
    for (let r = 0; r < rounds; r++) {
      await Promise.all(
        Array.from({ length: per }, (_, i) =>
          (i % 2 ? a : b).addArtifact(
            art({ session: 'race', name: 'n', sha256: SHA('ab'[i % 2]) }),
          ),
        ),
      );
    }
    const versions = (await b.sessionArtifacts('race', T0)).map((x) => x.version);
    expect(versions).toEqual(Array.from({ length: rounds * per }, (_, i) => i + 1));
    expect((await a.findArtifact('race', 'n', undefined, T0))?.version).toBe(rounds * per);
    const latest = await b.queryArtifacts({ session: 'race', latest: true, limit: 10 }, T0);
    expect(latest.items.map((x) => x.version)).toEqual([rounds * per]);
    expect(await a.getSession('race', T0)).toMatchObject({ artifactCount: rounds * per });
    expect((await a.blobRefs(SHA('a'))) + (await b.blobRefs(SHA('b')))).toBe(rounds * per);
    await close();
  });

  it('prune, sweep and delete racing on two writers keep references equal to live rows', async () => {
    const { a, b, close } = await makePair();
    const now = T0 + 10_000;
    for (let r = 0; r < 12; r++) {
      const s = `p${r}`;
      const d = `d${r}`;
      // Six versions of one name over two blobs; two expire on their own before `now`.
      const vs: StoredArtifact[] = [];
      for (let v = 0; v < 6; v++) {
        const expiresAt = v === 1 || v === 4 ? T0 + 1 : null;
        vs.push(
          await a.addArtifact(art({ session: s, name: 'n', sha256: SHA('xy'[v % 2]), expiresAt })),
        );
      }
      // A session deleted twice, and one that expires whole, sharing the same blobs.
      await b.addArtifact(art({ session: d, name: 'm', sha256: SHA('x') }));
      await b.addArtifact(art({ session: `e${r}`, sha256: SHA('y'), sessionExpiresAt: T0 + 1 }));
      const ops: (() => Promise<unknown>)[] = [
        () => a.retention.pruneVersions(s, 'n', 2, now),
        () => b.retention.pruneVersions(s, 'n', 2, now),
        () => a.retention.sweepExpired(now, 1000),
        () => b.retention.sweepExpired(now, 1000),
        () => a.deleteArtifact(vs[0].id, now),
        () => b.deleteArtifact(vs[0].id, now),
        () => b.deleteArtifact(vs[5].id, now),
        () => a.retention.deleteSession(d, now),
        () => b.retention.deleteSession(d, now),
      ];
      // Started in a different order each round, all before any of them commits.
      const k = r % ops.length;
      const outcomes = await Promise.all(
        [...ops.slice(k), ...ops.slice(0, k)].map((f) => code(f())),
      );
      expect(outcomes.filter((o) => o !== 'ok' && o !== 'not_found')).toEqual([]);
      const left = (await b.sessionArtifacts(s, now)).map((x) => x.version);
      expect(left.every((v) => v !== 1 && v !== 2 && v !== 5 && v !== 6)).toBe(true);
      expect(await a.getSession(d, now)).toBeNull();
    }
    for (const c of [a, b]) {
      expect(await c.audit.refMismatches(100)).toEqual([]);
      expect(await c.audit.sessionCountMismatches(100)).toEqual([]);
      expect(await c.audit.latestMismatches(100)).toEqual([]);
    }
    await close();
  });

  it('GC on one writer against pushes of the same bytes on the other: no acknowledged push loses its bytes', async () => {
    const { a, b, blobsA, blobsB, close } = await makePair();
    const service = (catalog: Catalog, blobs: BlobStore) =>
      new ArtifactService({
        catalog,
        blobs,
        clock: () => T0,
        maxSize: 1 << 30,
      });
    const pusher = service(a, blobsA);
    const collector = service(b, blobsB);
    let acknowledged = 0;
    for (let r = 0; r < 40; r++) {
      // Small bytes and bytes past any inline limit, alternately.
      const body = r % 2 ? `gc-race-${r}` : `gc-race-${r}-`.padEnd(200_000, 'z');
      const hash = sha(body);
      const first = await pusher.push({ session: `g${r}`, name: 'f' }, Readable.from([body]));
      // Unreferenced but still stored: what garbage collection looks for.
      await a.deleteArtifact(first.id, T0);
      const byRef = r % 4 === 3;
      const push = byRef
        ? pusher.pushByReference({ session: `h${r}`, name: 'f' }, hash)
        : pusher.push({ session: `h${r}`, name: 'f' }, Readable.from([body]));
      const [pushed] = await Promise.allSettled([
        push,
        turns(r % 5).then(() => collector.collectBlob(hash)),
        turns((r + 2) % 5).then(() => collector.collectBlob(hash)),
      ]);
      if (pushed.status === 'rejected') {
        // Only a by-reference push may lose the race (the bytes were gone before it began).
        expect(byRef).toBe(true);
        expect((pushed.reason as CairnError).code).toBe('blob_not_found');
        continue;
      }
      acknowledged++;
      expect(await b.blobRefs(hash)).toBe(1);
      expect(await blobsB.has(hash)).toBe(true);
      expect(await text(await blobsB.get(hash))).toBe(body);
    }
    expect(acknowledged).toBeGreaterThanOrEqual(30);
    await close();
  });

  it('a share link with a cap of N lets exactly N of 10N claims from two writers through', async () => {
    const { a, b, close } = await makePair();
    const n = 5;
    for (let r = 0; r < 20; r++) {
      const id = `sh_${r}`;
      await a.shares.add({
        id,
        tokenHash: sha(id),
        artifactId: null,
        sessionId: 's1',
        sessionCreatedAt: T0,
        createdAt: T0,
        expiresAt: T0 + 60_000,
        maxDownloads: n,
        downloads: 0,
        lastAccessAt: null,
        revokedAt: null,
        createdBy: null,
      });
      // Every claim waits at one barrier, then all start in the same turn: none can finish
      // before the last has begun, on either writer (counted, so a test that let them run one
      // after the other, passing with a check-then-increment cap, fails here instead).
      let open = () => {};
      const barrier = new Promise<void>((resolve) => (open = resolve));
      let inFlight = 0;
      let most = 0;
      const claim = async (i: number) => {
        await barrier;
        inFlight++;
        most = Math.max(most, inFlight);
        const p = (i % 2 ? a : b).shares.claimDownload(id, T0 + i);
        try {
          return await p;
        } finally {
          inFlight--;
        }
      };
      const all = Promise.all(Array.from({ length: 10 * n }, (_, i) => claim(i)));
      open();
      const claims = await all;
      expect(most).toBe(10 * n);
      expect(claims.filter(Boolean).length).toBe(n);
      expect((await b.shares.get(id))?.downloads).toBe(n);
    }
    await close();
  });

  it('one idempotency key claimed on two writers at once: one claim, one stored answer for both', async () => {
    const { a, b, close } = await makePair();
    for (let r = 0; r < 20; r++) {
      const key = `k${r}`;
      const o = (holder: string) => ({
        holder,
        request: 'PUT /x',
        now: T0,
        leaseUntil: T0 + 30_000,
        since: T0 - 1,
      });
      const claims = await Promise.all([
        a.idempotency.claim(key, o('A')),
        b.idempotency.claim(key, o('B')),
      ]);
      const states = claims.map((c) => c.state).sort();
      expect(states).toEqual(['busy', 'claimed']);
      const winner = claims[0].state === 'claimed' ? 'A' : 'B';
      const loser = winner === 'A' ? 'B' : 'A';
      const answer = { status: 201, body: `{"round":${r}}`, request: 'PUT /x' };
      expect(await (winner === 'A' ? b : a).idempotency.finish(key, loser, answer, T0)).toBe(false);
      expect(await (winner === 'A' ? a : b).idempotency.finish(key, winner, answer, T0)).toBe(true);
      for (const c of [a, b])
        expect(await c.idempotency.claim(key, o('C'))).toEqual({ state: 'done', answer });
    }
    // Through the core: of concurrent requests with one key on both sides, one does the work.
    const sides = [a, b].map((catalog) => new Idempotency({ catalog, clock: () => T0 }));
    for (let r = 0; r < 10; r++) {
      let runs = 0;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          sides[i % 2].run(`core-${r}`, { request: 'PUT /y' }, async () => {
            runs++;
            await turns(3);
            return { status: 201, body: `{"run":${runs}}` };
          }),
        ),
      );
      expect(runs).toBe(1);
      expect(new Set(results.map((x) => x.body))).toEqual(new Set(['{"run":1}']));
      expect(results.filter((x) => !x.replayed).length).toBe(1);
    }
    await close();
  });
}
