import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BLOB_LEASE_MS, leaseBlobs, markStaleMsFor } from '../../src/core/blob-leases.js';
import { T0, makeClockedApp } from '../helpers/clocked-app.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';

/** Bytes past the inline limit, so they live in the blob directory. */
const big = (c: string) => c.repeat(100 * 1024);
const text = async (r: Readable) => {
  let s = '';
  for await (const chunk of r) s += String(chunk);
  return s;
};
const sha = (body: string) => createHash('sha256').update(body).digest('hex');

describe.each([
  ['SQLite', async () => ({})],
  ['PostgreSQL', async () => ({ catalogUrl: await freshPgDatabase() })],
])('the sweep collects what dead pushes leased (%s catalog)', (_, catalog) => {
  const make = async () => makeClockedApp(await catalog());

  it('deletes bytes whose leases all ran out one sweep later; keeps live-leased and referenced bytes', async () => {
    const { app, clock, push, blobExists } = await make();
    const staleMs = markStaleMsFor(app.blobs);
    /** A push that dies between writing its bytes and adding its row: a lease, bytes, no row. */
    const deadPush = async (body: string) => {
      await leaseBlobs(app.catalog, [sha(body)], { clock: () => clock.now, staleMs });
      const staged = await app.blobs.stage(Readable.from([Buffer.from(body)]));
      await staged.commit();
      return staged.sha256;
    };
    const orphan = await deadPush(big('o'));
    // A push that died after its lease, before writing a byte: nothing to remove or count.
    await leaseBlobs(app.catalog, [sha('never written')], { clock: () => clock.now, staleMs });
    // Referenced bytes whose extra lease (another push of the same bytes that died) ran out.
    const kept = await push({ session: 's', name: 'kept.bin' }, big('k'));
    await leaseBlobs(app.catalog, [kept.sha256], { clock: () => clock.now, staleMs });
    clock.now = T0 + BLOB_LEASE_MS / 2;
    const young = await deadPush(big('y')); // its lease still runs at the next sweep

    clock.now = T0 + BLOB_LEASE_MS;
    // The report counts the orphan (not the referenced bytes, not the lease without bytes).
    const orphanCount = { orphans_freed: 1, orphan_bytes_freed: big('o').length };
    expect(await app.retention.plan()).toMatchObject({ ...orphanCount, blobs_freed: 0 });
    expect(await app.retention.sweep()).toMatchObject({ ...orphanCount, blobs_freed: 0 });
    expect(await blobExists(big('o'))).toBe(false);
    expect(await app.catalog.audit.blob(orphan)).toBeNull();
    expect(await blobExists(big('y'))).toBe(true);
    expect(await blobExists(big('k'))).toBe(true);
    const read = await text(await app.artifacts.open(await app.artifacts.get(kept.id)));
    expect(read).toBe(big('k'));
    expect(await app.catalog.leases.expiredLeases(clock.now, 10)).toEqual([]);

    // Once the young lease runs out too, the next sweep takes those bytes as well.
    clock.now = T0 + BLOB_LEASE_MS * 1.5;
    expect(await app.catalog.leases.expiredLeases(clock.now, 10)).toEqual([young]);
    expect(await app.retention.sweep()).toMatchObject({
      orphans_freed: 1,
      orphan_bytes_freed: big('y').length,
    });
    expect(await blobExists(big('y'))).toBe(false);
    expect(await blobExists(big('k'))).toBe(true);
    expect(await app.catalog.leases.expiredLeases(clock.now, 10)).toEqual([]);
  });
});
