import { BackendRegistry, localPathOf } from '../lib/backend-registry.js';
import type { MemoryBudget } from '../lib/memory-budget.js';
import type { BlobStore } from './blob-store.js';

/** What every blob store factory is given besides its URL. */
export interface BlobStoreOpenOptions {
  /** Durable against power loss before a commit resolves (`--durability full`). */
  durable: boolean;
  /** Memory budget uploads in flight share (see MemoryBudget); none: unbounded. */
  memory?: MemoryBudget;
  /** Called when buffers of uploads that ended were collected (a metric). */
  onMemoryCollected?: () => void;
  /** A loaded better-sqlite3 native binding (the single binary); the file store's node lock. */
  nativeBinding?: unknown;
}

/**
 * Blob store backends by URL scheme (`cairn serve --blobs URL`, env `CAIRN_BLOBS`). Built in:
 *
 * - `file:PATH` — a directory holding `blobs/ab/cd/<sha256>`, `tmp/` (uploads in progress,
 *   on the same filesystem so they can be linked into place) and `nodes/` (each process's lock
 *   and commit journal, so several may share the directory):
 *   `file:/abs/dir`, `file:///abs/dir` or `file:relative/dir`. The default is `file:<data>`.
 *
 * A backend added later (`s3:`) registers here; factories are imported lazily.
 */
export const blobStoreRegistry = new BackendRegistry<BlobStore, BlobStoreOpenOptions>(
  'blob store',
  '--blobs',
);

blobStoreRegistry.register(
  'file:',
  async (url, opts) => {
    const { FsBlobStore } = await import('./fs/fs-blob-store.js');
    return new FsBlobStore({ root: localPathOf(url, '--blobs'), ...opts });
  },
  (url) => void localPathOf(url, '--blobs'),
);
