import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { openTieredBlobs } from '../../src/app.js';
import { CommitJournal } from '../../src/blobs/fs/commit-journal.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { BLOB_LEASE_MS } from '../../src/core/blob-leases.js';
import { openOfflineStore } from '../../src/cli/offline-store.js';
import { localUrl } from '../../src/lib/backend-registry.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { tempDir } from '../helpers/server.js';
import { art } from './fixtures.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * An offline command that recovers its target (`cairn restore`, `cairn migrate`) on a catalog
 * live nodes share, with the blob directory they share: what a crash left goes only through
 * collection marks, so bytes a live node's push leased (stored, row not yet written) stay.
 * Large bytes: they live in the blob directory, not inline in the catalog.
 */
describe('offline recovery on a shared PostgreSQL catalog and blob directory', () => {
  it('keeps bytes a live push leased and removes a real orphan', async () => {
    const url = await freshPgDatabase();
    const dir = tempDir();
    const blobsUrl = localUrl('file:', dir);
    const live = await PgCatalog.open({ url });
    const liveBlobs = await openTieredBlobs(blobsUrl, live, { durable: false });
    try {
      const leased = randomBytes(200 * 1024);
      const orphan = randomBytes(200 * 1024);
      const now = Date.now();
      expect(
        await live.leases.leaseBlobs('in-flight', [sha(leased)], {
          now,
          until: now + BLOB_LEASE_MS,
          staleMs: 60_000,
        }),
      ).toBe(true);
      for (const body of [leased, orphan]) {
        const staged = await liveBlobs.stage(Readable.from([body]));
        await staged.commit();
        await staged.discard();
      }
      // A node that died between renaming both blobs into place and their rows: its journal
      // lists them and its lock is gone, so recovery looks at both.
      const dead = new CommitJournal(join(dir, 'nodes', 'dead-node.journal'));
      for (const body of [leased, orphan]) dead.begin(sha(body));
      dead.close();
      const store = await openOfflineStore(
        { dataDir: tempDir(), catalogUrl: url, blobsUrl },
        { recover: true },
      );
      await store.close();
      expect(await liveBlobs.has(sha(orphan))).toBe(false);
      // The live push's row then commits: its bytes are there.
      await live.addArtifact(
        art({
          session: 'live',
          sha256: sha(leased),
          size: leased.length,
          createdAt: now,
          leaseId: 'in-flight',
        }),
      );
      expect((await buffer(await liveBlobs.get(sha(leased)))).equals(leased)).toBe(true);
    } finally {
      await liveBlobs.close();
      await live.close();
    }
  });
});
