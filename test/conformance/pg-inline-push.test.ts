import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setImmediate as tick } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { TieredBlobStore } from '../../src/blobs/tiered/tiered-blob-store.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { ArtifactService } from '../../src/core/artifact-service.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { tempDir } from '../helpers/server.js';
import { art, T0 } from './fixtures.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const STALE = 60_000;

/** A catalog on `url` with a service over it, its small blobs in the catalog (as createApp). */
async function node(url: string, files: FsBlobStore, clock: () => number = Date.now) {
  const catalog = await PgCatalog.open({ url });
  const blobs = new TieredBlobStore({
    small: catalog.capabilities.inlineBlobs!,
    large: files,
    inlineMax: 64 * 1024,
  });
  const service = new ArtifactService({ catalog, blobs, clock, maxSize: 1 << 30 });
  return { catalog, blobs, service };
}

async function filesIn(): Promise<FsBlobStore> {
  const files = new FsBlobStore({ root: tempDir(), durable: false });
  await files.recover();
  return files;
}

/**
 * A small push on PostgreSQL is one transaction (cairn_add_inline, see InlinePushCatalog): its
 * bytes, row, reference and event commit together, with no lease, and garbage collection of the
 * same bytes on another node still never deletes bytes an acknowledged row references.
 */
describe('PostgreSQL inline pushes', () => {
  it('bytes and row are visible together or not at all, in every snapshot a reader takes during 600 concurrent pushes', async () => {
    const url = await freshPgDatabase();
    const files = await filesIn();
    const { catalog, service } = await node(url, files);
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    try {
      let pushing = true;
      const seen = { samples: 0, midway: 0, looseBytes: 0, rowsWithoutBytes: 0 };
      const watch = (async () => {
        while (pushing) {
          // One statement, one snapshot.
          const { rows } = await reader.query<{ bytes: string; loose: string; bare: string }>(
            `SELECT (SELECT count(*) FROM inline_blobs) AS bytes,
               (SELECT count(*) FROM inline_blobs i
                 WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = i.sha256)) AS loose,
               (SELECT count(*) FROM artifacts a
                 WHERE NOT EXISTS (SELECT 1 FROM inline_blobs i WHERE i.sha256 = a.sha256)) AS bare`,
          );
          seen.samples++;
          if (Number(rows[0].bytes) > 0 && Number(rows[0].bytes) < 600) seen.midway++;
          seen.looseBytes = Math.max(seen.looseBytes, Number(rows[0].loose));
          seen.rowsWithoutBytes = Math.max(seen.rowsWithoutBytes, Number(rows[0].bare));
        }
      })();
      const next = { i: 0 };
      const pushes = Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next.i < 600) {
            const i = next.i++;
            const body = `atomic-${i}-`.padEnd(1024, 'x');
            const rec = await service.push(
              { session: `s${i % 7}`, name: `f${i % 13}` },
              Readable.from([body]),
            );
            expect(rec.deduplicated).toBe(false);
          }
        }),
      );
      await pushes.finally(() => (pushing = false));
      await watch;
      // The reader really looked while pushes were committing.
      expect(seen.midway).toBeGreaterThan(0);
      expect(seen).toMatchObject({ looseBytes: 0, rowsWithoutBytes: 0 });
    } finally {
      await reader.end();
      await catalog.close();
      await files.close();
    }
  });

  it('a refused inline push (sealed session, fresh collection mark) writes nothing; a stale mark is taken over', async () => {
    const url = await freshPgDatabase();
    const cat = await PgCatalog.open({ url });
    const push = cat.capabilities.inlinePush!;
    const inline = cat.capabilities.inlineBlobs!;
    try {
      // A sealed session: no bytes, no row, no event.
      await cat.addArtifact(art({ session: 'closed', sha256: sha('first') }));
      await cat.sealSession('closed', T0 + 1, () => ({ digest: 'd', signature: 's' }));
      const late = Buffer.from('late');
      const refused = await push.addInline(
        art({ session: 'closed', name: 'late', sha256: sha('late'), size: 4 }),
        late,
        { staleMs: STALE },
      );
      expect(refused).toBeNull();
      expect(await inline.get(sha('late'))).toBeNull();
      expect(await cat.blobRefs(sha('late'))).toBe(0);
      // Bytes stored once, then unreferenced, then marked by a collector (deleting them now).
      const bytes = Buffer.from('marked bytes');
      const x = sha('marked bytes');
      const row = (session: string, at: number) =>
        art({ session, name: 'm', sha256: x, size: bytes.length, createdAt: at });
      const first = await push.addInline(row('a', T0), bytes, { staleMs: STALE });
      expect(first?.created).toBe(true);
      await cat.deleteArtifact(first!.artifact.id, T0);
      expect(await cat.leases.markBlob(x, T0 + 10, STALE)).toBe(T0 + 10);
      await inline.delete(x);
      const events = (await cat.events.readAfter(0, 1000)).events.length;
      expect(await push.addInline(row('b', T0 + 20), bytes, { staleMs: STALE })).toBeNull();
      expect(await inline.get(x)).toBeNull();
      expect(await cat.blobRefs(x)).toBe(0);
      expect(await cat.getSession('b', T0 + 20)).toBeNull();
      expect((await cat.events.readAfter(0, 1000)).events).toHaveLength(events);
      // The mark stays the collector's: its row goes once the bytes are gone.
      // Once stale (a dead collector's), the push takes it over and brings the bytes back.
      const taken = await push.addInline(row('c', T0 + 10 + STALE + 1), bytes, {
        staleMs: STALE,
      });
      expect(taken?.created).toBe(true);
      expect(await cat.blobRefs(x)).toBe(1);
      expect(await inline.get(x)).toEqual(bytes);
      // The dead collector's drop finds its mark gone: the row and bytes stay.
      expect(await cat.leases.dropMarkedBlob(x, T0 + 10)).toBe(false);
      expect(await cat.blobRefs(x)).toBe(1);
    } finally {
      await cat.close();
    }
  });

  it('GC on another node racing an inline push of the same bytes, both held at one point: the push keeps its bytes (30 rounds)', async () => {
    const url = await freshPgDatabase();
    const files = await filesIn();
    const pusher = await node(url, files);
    const collector = await node(url, files);
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    /** Backends of this database waiting for an advisory lock. */
    const waiting = async () =>
      Number(
        (
          await gate.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          )
        ).rows[0].n,
      );
    try {
      for (let r = 0; r < 30; r++) {
        const body = `inline-gc-${r}`;
        const x = sha(body);
        const first = await pusher.service.push(
          { session: `g${r}`, name: 'f' },
          Readable.from([body]),
        );
        // Unreferenced but still stored: what garbage collection looks for.
        await pusher.catalog.deleteArtifact(first.id, Date.now());
        // The barrier: the gate holds the session's key, which the push's transaction takes
        // after its blob's key and mark check and before it adds the reference. The push stops
        // there; the collection of the same bytes is started while it waits.
        await gate.query('BEGIN');
        await gate.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`s:h${r}`]);
        const push = pusher.service.push({ session: `h${r}`, name: 'f' }, Readable.from([body]));
        while ((await waiting()) < 1) await tick();
        let collected: boolean | undefined;
        const collect = collector.service.collectBlob(x).then((v) => (collected = v));
        // Until the collection either ended or waits too (on the blob's key the push holds).
        while (collected === undefined && (await waiting()) < 2) await tick();
        await gate.query('COMMIT');
        const [rec] = await Promise.all([push, collect]);
        expect(collected).toBe(false);
        expect(rec.deduplicated).toBe(true);
        expect(await collector.catalog.blobRefs(x)).toBe(1);
        expect(await text(await collector.blobs.get(x))).toBe(body);
      }
    } finally {
      await gate.end();
      await pusher.catalog.close();
      await collector.catalog.close();
      await files.close();
    }
  });
});
