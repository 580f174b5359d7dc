import { BackendRegistry, localPathOf } from '../lib/backend-registry.js';
import type { MemoryBudget } from '../lib/memory-budget.js';
import type { BlobStore } from './blob-store.js';
import { parseS3Url } from './s3/s3-url.js';

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
 * - `s3://BUCKET[/PREFIX]?endpoint=URL&region=R&force_path_style=true` — objects
 *   `PREFIX/v1/blobs/ab/<sha256>` of an S3 bucket (see S3BlobStore); credentials from
 *   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS SDK's usual chain.
 *
 * Factories are imported lazily (the AWS SDK only loads for `s3:`).
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

blobStoreRegistry.register(
  's3:',
  async (url, opts) => {
    const { S3BlobStore } = await import('./s3/s3-blob-store.js');
    return S3BlobStore.open({ location: parseS3Url(url), memory: opts.memory });
  },
  (url) => void parseS3Url(url),
);
