import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leaseBlobs, markStaleMsFor } from '../../src/core/blob-leases.js';
import { H, T0, makeClockedApp } from '../helpers/clocked-app.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';

/** Bytes past the inline limit, so they live in the blob store. */
const big = (i: number) => `${i}:`.padEnd(100 * 1024, 'x');
const sha = (body: string) => createHash('sha256').update(body).digest('hex');

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ catalogUrl: await freshPgDatabase() })],
])('a sweep goes on past unreferenced blobs it cannot collect (%s catalog)', (_, catalog) => {
  it('a whole batch held by live leases does not stop it collecting the rest', async () => {
    const batch = 4;
    const { app, clock, push, blobExists } = await makeClockedApp({
      ...(await catalog()),
      sweepBatch: batch,
    });
    // Pushed (and so listed) in sha256 order: whatever order a catalog lists unreferenced
    // blobs in when asked for none, the held ones come first.
    const bodies = Array.from({ length: 12 }, (_, i) => big(i)).sort((a, b) =>
      sha(a).localeCompare(sha(b)),
    );
    for (const [i, body] of bodies.entries())
      await push({ session: 's', name: `f${i}`, ttlMs: H }, body);
    clock.now = T0 + H;
    // Pushes of the same bytes in flight elsewhere: their leases keep the first two batches.
    const held = bodies.slice(0, 2 * batch);
    await leaseBlobs(app.catalog, held.map(sha), {
      clock: () => clock.now,
      staleMs: markStaleMsFor(app.blobs),
    });

    const report = await app.retention.sweep();
    expect(report).toMatchObject({ artifacts_expired: 12, blobs_freed: 4 });
    expect(report.bytes_freed).toBe(4 * 100 * 1024);
    for (const body of bodies.slice(2 * batch)) expect(await blobExists(body)).toBe(false);
    for (const body of held) expect(await blobExists(body)).toBe(true);
    const left = await app.catalog.retention.unreferencedBlobs(100);
    expect(left.map((b) => b.sha256)).toEqual(held.map(sha));
  });
});
