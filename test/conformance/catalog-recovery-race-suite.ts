import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { expect, it } from 'vitest';
import type { BlobStore, RecoverOptions } from '../../src/blobs/blob-store.js';
import type { Catalog } from '../../src/catalog/catalog.js';
import { ArtifactService } from '../../src/core/artifact-service.js';
import { BLOB_LEASE_MS, collectBytes, markStaleMsFor } from '../../src/core/blob-leases.js';
import type { CatalogPair } from './catalog-concurrency-suite.js';
import { art } from './fixtures.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Waits `n` turns of the event loop, so that racing work interleaves differently per round. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** The start-up recovery step as app.ts runs it: through collection marks when nodes share the catalog. */
function recovery(catalog: Catalog, blobs: BlobStore): RecoverOptions {
  return {
    isReferenced: async (s) => (await catalog.blobRefs(s)) > 0,
    collect: catalog.capabilities.coordinator
      ? (s) => collectBytes(catalog, blobs, s, { now: Date.now(), staleMs: markStaleMsFor(blobs) })
      : undefined,
  };
}

/**
 * Start-up recovery of small bytes a crash left committed without their row, on one writer,
 * against pushes of those very bytes on the other. Both catalogs (see the *-catalog tests).
 */
export function runCatalogRecoveryRaceSuite(makePair: () => Promise<CatalogPair>): void {
  it('recovery on one writer against pushes of crash-left bytes on the other: every acknowledged push keeps its bytes (60 rounds)', async () => {
    const { a, b, blobsA, blobsB, close } = await makePair();
    const pusher = new ArtifactService({
      catalog: a,
      blobs: blobsA,
      clock: Date.now,
      maxSize: 1 << 30,
    });
    const acked: { id: string; body: string }[] = [];
    try {
      for (let r = 0; r < 60; r++) {
        // Bytes committed by a push that died before its row: what recovery looks for.
        const bodies = Array.from({ length: 4 }, (_, i) => `crash-left-${r}-${i}`);
        const loose = `nobody-pushes-${r}`;
        for (const body of [...bodies, loose]) {
          const staged = await blobsA.stage(Readable.from([body]));
          await staged.commit();
          await staged.discard();
        }
        const [pushes, report] = await Promise.all([
          Promise.all(
            bodies.map(async (body, i) => {
              await turns((r + i) % 6);
              const rec = await pusher.push(
                { session: `c${r}-${i}`, name: 'f' },
                Readable.from([body]),
              );
              return { id: rec.id, body };
            }),
          ),
          turns(r % 4).then(() => blobsB.recover(recovery(b, blobsB))),
        ]);
        acked.push(...pushes);
        // Recovery still removes what nobody pushes: it ran, and did not just keep everything.
        expect(report.orphansRemoved).toContain(sha(loose));
        expect(await b.blobRefs(sha(loose))).toBe(0);
        expect(await blobsB.has(sha(loose))).toBe(false);
        for (const { body } of pushes) {
          expect(await b.blobRefs(sha(body))).toBe(1);
          expect(await text(await blobsB.get(sha(body)))).toBe(body);
        }
      }
      for (const { id, body } of acked) {
        const rec = await a.getArtifact(id, Date.now());
        expect(rec?.sha256).toBe(sha(body));
        expect(await text(await blobsA.get(sha(body)))).toBe(body);
      }
    } finally {
      await close();
    }
  });

  it("recovery on one writer leaves bytes the other writer's push leased (between its bytes and its row), by either removal path", async () => {
    const { a, b, blobsA, blobsB, close } = await makePair();
    const offline = (c: Catalog): RecoverOptions => ({
      isReferenced: async (s) => (await c.blobRefs(s)) > 0,
    });
    try {
      for (const [i, opts] of [recovery(b, blobsB), offline(b)].entries()) {
        const body = `in-flight-${i}`;
        const x = sha(body);
        // A push on `a` as it stands between its put and its row: leased, bytes stored, no row.
        const now = Date.now();
        const lease = `lease-${i}`;
        expect(
          await a.leases.leaseBlobs(lease, [x], {
            now,
            until: now + BLOB_LEASE_MS,
            staleMs: 60_000,
          }),
        ).toBe(true);
        const staged = await blobsA.stage(Readable.from([body]));
        await staged.commit();
        await staged.discard();
        const report = await blobsB.recover(opts);
        expect(report.orphansRemoved).not.toContain(x);
        // The push's row then commits: its bytes are there.
        await a.addArtifact(
          art({
            session: `lease${i}`,
            sha256: x,
            size: body.length,
            createdAt: now,
            leaseId: lease,
          }),
        );
        expect(await b.blobRefs(x)).toBe(1);
        expect(await text(await blobsB.get(x))).toBe(body);
      }
    } finally {
      await close();
    }
  });
}
