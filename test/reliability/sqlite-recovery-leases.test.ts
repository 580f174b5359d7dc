import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CommitJournal } from '../../src/blobs/fs/commit-journal.js';
import { BLOB_LEASE_MS } from '../../src/core/blob-leases.js';
import { openOfflineStore, storeSpec } from '../../src/cli/offline-store.js';
import { tempDir } from '../helpers/server.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A run killed between a push's bytes and its row leaves the bytes, the push's lease (live for
 * ten more minutes) and maybe a collection mark. On SQLite only one process uses the data dir
 * (its lock), so the next start's recovery takes them for the dead run's and removes the bytes
 * at once, small (inline in the catalog) and large (a blob file its journal lists).
 */
describe('SQLite start-up recovery after a push killed between its bytes and its row', () => {
  it('removes the orphan bytes although the dead push still leases them', async () => {
    const dir = tempDir();
    const spec = storeSpec(dir, undefined, '--data');
    const small = randomBytes(1024);
    const large = randomBytes(200 * 1024);
    const dead = await openOfflineStore(spec, { recover: false });
    const now = Date.now();
    const { catalog, blobs } = dead.parts;
    expect(
      await catalog.leases.leaseBlobs('dead-push', [sha(small), sha(large)], {
        now,
        until: now + BLOB_LEASE_MS,
        staleMs: 60_000,
      }),
    ).toBe(true);
    for (const body of [small, large]) {
      const staged = await blobs.stage(Readable.from([body]));
      await staged.commit();
      await staged.discard();
    }
    await dead.close();
    // The killed run's journal still listed the large blob (a clean close emptied it).
    const journal = new CommitJournal(join(dir, 'nodes', 'killed-run.journal'));
    journal.begin(sha(large));
    journal.close();

    const next = await openOfflineStore(spec, { recover: true });
    try {
      expect(await next.parts.blobs.has(sha(small))).toBe(false);
      expect(await next.parts.blobs.has(sha(large))).toBe(false);
    } finally {
      await next.close();
    }
  });
});
