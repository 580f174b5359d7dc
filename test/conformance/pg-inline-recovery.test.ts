import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setImmediate as tick } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { RecoverOptions } from '../../src/blobs/blob-store.js';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { TieredBlobStore } from '../../src/blobs/tiered/tiered-blob-store.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { ArtifactService } from '../../src/core/artifact-service.js';
import { collectBytes, markStaleMsFor } from '../../src/core/blob-leases.js';
import { FsckService } from '../../src/core/fsck-service.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { tempDir } from '../helpers/server.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const ROUNDS = 30;

/** A node on `url`: a catalog, its small blobs in the catalog and the rest in its own dir (as createApp). */
async function node(url: string) {
  const files = new FsBlobStore({ root: tempDir(), durable: false });
  await files.recover();
  const catalog = await PgCatalog.open({ url });
  const blobs = new TieredBlobStore({
    small: catalog.capabilities.inlineBlobs!,
    large: files,
    inlineMax: 64 * 1024,
  });
  const service = new ArtifactService({ catalog, blobs, clock: Date.now, maxSize: 1 << 30 });
  return { catalog, blobs, service };
}

type Node = Awaited<ReturnType<typeof node>>;

/** The start-up recovery step as a server runs it (app.ts openBlobs: through collection marks). */
const serverRecovery = (n: Node): RecoverOptions => ({
  isReferenced: async (s) => (await n.catalog.blobRefs(s)) > 0,
  collect: (s) =>
    collectBytes(n.catalog, n.blobs, s, { now: Date.now(), staleMs: markStaleMsFor(n.blobs) }),
});

/** As an offline command runs it (cli/offline-store.ts: no `collect`, the store deletes itself). */
const offlineRecovery = (n: Node): RecoverOptions => ({
  isReferenced: async (s) => (await n.catalog.blobRefs(s)) > 0,
});

/**
 * Start-up recovery on one node removes inline bytes a crash left without their row, while
 * another node's small push of the same bytes (one transaction, no lease: cairn_add_inline)
 * is committing a reference to them. The acknowledged push must keep its bytes.
 */
describe('PostgreSQL inline orphan recovery vs pushes on another node', () => {
  for (const [mode, recovery] of [
    ['a server start (collection marks)', serverRecovery],
    ['an offline command (direct removal)', offlineRecovery],
  ] as const) {
    it(`recovery as ${mode} overlapping a push of the orphan's bytes: the push keeps them, real orphans still go (${ROUNDS} rounds)`, async () => {
      const url = await freshPgDatabase();
      const pusher = await node(url);
      const recovering = await node(url);
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
      /** Bytes as a crash between their commit and their row's leaves them. */
      const orphan = (body: string) =>
        gate.query('INSERT INTO inline_blobs (sha256, data) VALUES ($1, $2)', [
          sha(body),
          Buffer.from(body),
        ]);
      const acked: { id: string; body: string }[] = [];
      let overlapped = 0;
      try {
        for (let r = 0; r < ROUNDS; r++) {
          const body = `crash-left-${r}`;
          const loose = `nobody-wants-${r}`;
          await orphan(loose);
          await orphan(body);
          // The barrier: the gate holds the session's key, which the push's transaction takes
          // after it stored (here: found) the inline bytes and before it adds their reference.
          // The push stops there; the recovery is started while it waits.
          await gate.query('BEGIN');
          await gate.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`s:p${r}`]);
          const push = pusher.service.push({ session: `p${r}`, name: 'f' }, Readable.from([body]));
          while ((await waiting()) < 1) await tick();
          let removed: string[] | undefined;
          const recover = recovering.blobs
            .recover(recovery(recovering))
            .then((rep) => (removed = rep.orphansRemoved));
          // Until the recovery either ended or waits too (on the blob's key the push holds).
          while (removed === undefined && (await waiting()) < 2) await tick();
          if (removed === undefined) overlapped++;
          await gate.query('COMMIT');
          const [rec] = await Promise.all([push, recover]);
          acked.push({ id: rec.id, body });
          expect(await recovering.catalog.blobRefs(sha(body))).toBe(1);
          expect(await text(await recovering.blobs.get(sha(body)))).toBe(body);
          expect(removed).not.toContain(sha(body));
          expect(removed).toContain(sha(loose));
        }
        // The recovery really ran while pushes were midway (waiting for the push's blob key).
        expect(overlapped).toBeGreaterThan(0);
        // Every acknowledged push reads back whole on either node; nothing is left inconsistent.
        for (const { id, body } of acked) {
          for (const n of [pusher, recovering]) {
            const rec = await n.service.get(id);
            expect(await text(await n.service.open(rec))).toBe(body);
          }
        }
        const fsck = new FsckService({
          catalog: recovering.catalog,
          blobs: recovering.blobs,
          artifacts: recovering.service,
        });
        const report = await fsck.run({ repair: false });
        expect(report.problems).toEqual([]);
        expect(report.ok).toBe(true);
      } finally {
        await gate.end();
        await pusher.catalog.close();
        await recovering.catalog.close();
      }
    });
    it(`recovery as ${mode} looping on one node while another pushes crash-left bytes, free-running (800 pushes): every acknowledged push reads back`, async () => {
      const url = await freshPgDatabase();
      const pusher = await node(url);
      const recovering = await node(url);
      const direct = new pg.Client({ connectionString: url });
      await direct.connect();
      const bodies = Array.from({ length: 800 }, (_, i) => `left-behind-${i}-`.padEnd(900, 'y'));
      try {
        for (const b of bodies)
          await direct.query('INSERT INTO inline_blobs (sha256, data) VALUES ($1, $2)', [
            sha(b),
            Buffer.from(b),
          ]);
        let pushing = true;
        let recoveries = 0;
        const loop = (async () => {
          while (pushing) {
            await recovering.blobs.recover(recovery(recovering));
            recoveries++;
          }
        })();
        const acked: { id: string; body: string }[] = [];
        const next = { i: 0 };
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next.i < bodies.length) {
              const i = next.i++;
              const rec = await pusher.service.push(
                { session: `free${i}`, name: 'f' },
                Readable.from([bodies[i]]),
              );
              acked.push({ id: rec.id, body: bodies[i] });
            }
          }),
        ).finally(() => (pushing = false));
        await loop;
        expect(recoveries).toBeGreaterThan(0);
        for (const { id, body } of acked) {
          const rec = await recovering.service.get(id);
          expect(await text(await recovering.service.open(rec))).toBe(body);
        }
        const fsck = new FsckService({
          catalog: recovering.catalog,
          blobs: recovering.blobs,
          artifacts: recovering.service,
        });
        expect((await fsck.run({ repair: false })).problems).toEqual([]);
      } finally {
        await direct.end();
        await pusher.catalog.close();
        await recovering.catalog.close();
      }
    });
  }
});
