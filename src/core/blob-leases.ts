import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';

/** How long a push's blob lease lasts: far longer than a commit and a catalog write take. */
export const BLOB_LEASE_MS = 10 * 60_000;

/**
 * Default age after which a collection mark is taken to be a dead collector's (see
 * LeaseCatalog). A blob directory's delete cannot land once its process is gone; a blob store
 * whose deletes can (signed S3 requests: 15 minutes) needs a longer one.
 */
export const MARK_STALE_MS = 60_000;

/**
 * The mark age for `blobs`: MARK_STALE_MS past the longest its deletes may still land (see
 * BlobStore.deleteHorizonMs: 15 minutes for S3), so a dead collector's delete can never
 * remove bytes a push took over the mark for.
 */
export function markStaleMsFor(blobs: BlobStore): number {
  return MARK_STALE_MS + (blobs.deleteHorizonMs ?? 0);
}

/**
 * Leases `sha256s` for a push or an import (see LeaseCatalog.leaseBlobs) and returns the lease
 * id. While garbage collection holds a mark on one of them (it is deleting those bytes right
 * now), waits and tries again: the mark goes within a delete's time, or turns stale.
 */
export async function leaseBlobs(
  catalog: Catalog,
  sha256s: string[],
  o: { clock: () => number; staleMs: number },
): Promise<string> {
  const id = randomUUID();
  for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
    const now = o.clock();
    const until = now + BLOB_LEASE_MS;
    if (await catalog.leases.leaseBlobs(id, sha256s, { now, until, staleMs: o.staleMs })) return id;
    await sleep(wait);
  }
}

/**
 * Garbage collection of one blob's bytes: marks its row (creating one if absent) only if no
 * artifact references it and no push leases it, deletes the bytes, then removes the row.
 * True if the bytes went.
 */
export async function collectBytes(
  catalog: Catalog,
  blobs: BlobStore,
  sha256: string,
  o: { now: number; staleMs: number },
): Promise<boolean> {
  const mark = await catalog.leases.markBlob(sha256, o.now, o.staleMs);
  if (mark === null) return false;
  await blobs.delete(sha256);
  await catalog.leases.dropMarkedBlob(sha256, mark);
  return true;
}

/**
 * Cleans what a crash left in `blobs` (BlobStore.recover): bytes no catalog row references,
 * removed through collection marks. On a catalog several processes share (it has a coordinator)
 * another node may be pushing the same bytes, so an orphan a dead node still leased, or marked
 * less than a stale time ago, is left for the expired-lease sweep or fsck --repair. On a
 * catalog of one process (SQLite, behind the data dir's lock) every lease and mark is a dead
 * run's: the orphan's leases are dropped and its marks taken over, so what the dead run left
 * goes at once.
 */
export async function recoverBlobs(catalog: Catalog, blobs: BlobStore): Promise<void> {
  const shared = catalog.capabilities.coordinator !== undefined;
  await blobs.recover({
    isReferenced: async (sha) => (await catalog.blobRefs(sha)) > 0,
    collect: async (sha) => {
      if (!shared) await catalog.leases.dropExpiredLeases([sha], Number.MAX_SAFE_INTEGER);
      const staleMs = shared ? markStaleMsFor(blobs) : 0;
      return collectBytes(catalog, blobs, sha, { now: Date.now(), staleMs });
    },
  });
}
