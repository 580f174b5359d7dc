import * as fs from 'node:fs';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { MemoryBudget } from '../../lib/memory-budget.js';
import { AlignedBuffers } from './aligned-buffers.js';
import { FileBody } from './file-body.js';
import { fsyncPath, writeUpload } from './write-upload.js';
import type {
  BlobBody,
  BlobStore,
  ByteRange,
  RecoverOptions,
  RecoverReport,
  StagedBlob,
  StageOptions,
} from '../blob-store.js';
import { NodeStaging } from './node-staging.js';
import {
  CairnError,
  DigestMismatchError,
  InsufficientStorageError,
  NotFoundError,
  isDiskFull,
} from '../../lib/errors.js';

/** Options for {@link FsBlobStore}. */
export interface FsBlobStoreOptions {
  /** Directory holding `blobs/` and `tmp/`. */
  root: string;
  /** fsync files and directories before a commit resolves (survives power loss). */
  durable: boolean;
  /**
   * When durable, write uploads with O_DIRECT where the filesystem allows it (default true;
   * see DirectFileWriter; 1 MiB of buffers per upload in progress, up to 3 MiB while `memory`
   * allows, 6 MiB kept between them). Otherwise, or when false, they are written buffered and
   * fsynced.
   */
  directIo?: boolean;
  /** What uploads reserve buffers beyond their first from (default: no limit). */
  memory?: MemoryBudget;
  /** Called after the buffers uploads left behind were collected (see IdleCollector). */
  onMemoryCollected?: () => void;
  /**
   * When durable but written buffered, write an upload back every this many bytes while it
   * arrives (default 32 MiB).
   */
  flushEvery?: number;
  /** A loaded better-sqlite3 native binding (the single binary), for the node lock. */
  nativeBinding?: unknown;
}

/** Read size of `get` streams. */
const CHUNK = 1024 * 1024;

/**
 * Blobs as files under `<root>/blobs/ab/cd/<sha256>`; uploads stream to `<root>/tmp/` while
 * hashing and are linked into place (after fsync when durable; see commit).
 *
 * Several processes (nodes) may share one root: each names its uploads and keeps its commit
 * journal under its own node id, holds a lock in `<root>/nodes/` while it lives, and its
 * start-up recovery cleans only what dead nodes left (see NodeStaging).
 */
export class FsBlobStore implements BlobStore {
  private readonly blobsDir: string;
  private readonly tmpDir: string;
  private readonly durable: boolean;
  private readonly flushEvery: number;
  /** Buffers for O_DIRECT uploads into `tmp/`; null when uploads are written buffered. */
  private readonly directBuffers: AlignedBuffers | null;
  private readonly knownDirs = new Set<string>();
  /** This process's uploads, lock and commit journal in the shared root (see NodeStaging). */
  private readonly staging: NodeStaging;
  private readonly memory: MemoryBudget | undefined;

  constructor(opts: FsBlobStoreOptions) {
    this.blobsDir = join(opts.root, 'blobs');
    this.tmpDir = join(opts.root, 'tmp');
    this.durable = opts.durable;
    this.flushEvery = opts.flushEvery ?? 32 * CHUNK;
    this.directBuffers =
      opts.durable && opts.directIo !== false
        ? new AlignedBuffers(6, opts.onMemoryCollected)
        : null;
    this.staging = new NodeStaging(
      {
        tmpDir: this.tmpDir,
        nodesDir: join(opts.root, 'nodes'),
        legacyJournal: join(opts.root, 'blobs.journal'),
      },
      opts.nativeBinding,
    );
    this.memory = opts.memory;
  }

  async recover(opts: RecoverOptions = {}): Promise<RecoverReport> {
    await fsp.mkdir(this.blobsDir, { recursive: true });
    // Only blobs committed while a dead node was between rename and catalog commit can be
    // orphans: its journal lists them, so this costs O(in flight), not O(store).
    const { collect, isReferenced } = opts;
    const removeOrphan =
      collect || isReferenced
        ? async (sha: string): Promise<boolean> => {
            if (!(await exists(this.pathOf(sha)))) return false;
            if (isReferenced && (await isReferenced(sha))) return false;
            if (collect) return collect(sha);
            await fsp.rm(this.pathOf(sha), { force: true });
            return true;
          }
        : undefined;
    return { orphansRemoved: await this.staging.recover(removeOrphan) };
  }

  async close(): Promise<void> {
    this.staging.close();
  }

  async ping(): Promise<void> {
    await fsp.access(this.blobsDir, fs.constants.R_OK | fs.constants.W_OK);
  }

  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    // Synchronous once entered: an await here would let an early error of `source` go unheard.
    if (!this.staging.entered) await this.staging.enter();
    const tmp = this.staging.tmpPath();
    try {
      const { sha256, size } = await writeUpload(source, tmp, {
        durable: this.durable,
        directBuffers: this.directBuffers,
        memory: this.memory,
        flushEvery: this.flushEvery,
        maxSize: opts.maxSize,
      });
      if (opts.expectedSha256 !== undefined && opts.expectedSha256 !== sha256) {
        await fsp.rm(tmp, { force: true });
        throw new DigestMismatchError(
          `the body's sha256 is ${sha256} but the request announced ${opts.expectedSha256}; nothing was stored`,
        );
      }
      return this.staged(tmp, sha256, size);
    } catch (err) {
      throw translate(err);
    }
  }

  private staged(tmp: string, sha256: string, size: number): StagedBlob {
    let done = false;
    let journaled = false;
    return {
      sha256,
      size,
      commit: async () => {
        if (done) return false;
        const dest = this.pathOf(sha256);
        if (await exists(dest)) {
          done = true;
          await fsp.rm(tmp, { force: true });
          return false;
        }
        let dir: string;
        try {
          dir = await this.ensureDir(sha256);
          this.staging.journal.begin(sha256);
        } catch (err) {
          throw translate(err);
        }
        try {
          // link(), not rename(): it fails if the name exists, so of concurrent commits of the
          // same bytes (in this process or another) exactly one creates the blob.
          await fsp.link(tmp, dest);
        } catch (err) {
          this.staging.journal.end(sha256);
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw translate(err);
          done = true;
          await fsp.rm(tmp, { force: true });
          return false;
        }
        try {
          await fsp.rm(tmp, { force: true });
          if (this.durable) await fsyncPath(dir);
        } catch (err) {
          this.staging.journal.end(sha256);
          throw translate(err);
        }
        done = true;
        journaled = true;
        return true;
      },
      discard: async () => {
        // After a commit the caller has recorded (or cleaned up) the blob: no recovery needed.
        if (journaled) this.staging.journal.end(sha256);
        journaled = false;
        if (done) return;
        done = true;
        await fsp.rm(tmp, { force: true });
      },
    };
  }

  async has(sha256: string): Promise<boolean> {
    return exists(this.pathOf(sha256));
  }

  async stat(sha256: string): Promise<{ size: number }> {
    try {
      const st = await fsp.stat(this.pathOf(sha256));
      return { size: st.size };
    } catch {
      throw new NotFoundError(`blob ${sha256} is not stored`, 'blob_not_found');
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const fh = await this.openBlob(sha256);
    return createReadStream('', {
      fd: fh,
      highWaterMark: CHUNK,
      start: range?.start,
      end: range?.end,
    });
  }

  async getBody(sha256: string, range?: ByteRange): Promise<BlobBody> {
    const fh = await this.openBlob(sha256);
    if (range) return new FileBody(fh, range.start, range.end);
    try {
      const { size } = await fh.stat();
      return new FileBody(fh, 0, size - 1);
    } catch (err) {
      await fh.close();
      throw translate(err);
    }
  }

  /** Opens a stored blob for reading; throws NotFoundError (`blob_not_found`). */
  private async openBlob(sha256: string): Promise<fsp.FileHandle> {
    try {
      return await fsp.open(this.pathOf(sha256), 'r');
    } catch {
      throw new NotFoundError(`blob ${sha256} is not stored`, 'blob_not_found');
    }
  }

  async delete(sha256: string): Promise<void> {
    await fsp.rm(this.pathOf(sha256), { force: true });
  }

  async *list(): AsyncIterable<string> {
    for (const a of await readdirSafe(this.blobsDir)) {
      for (const b of await readdirSafe(join(this.blobsDir, a))) {
        for (const name of await readdirSafe(join(this.blobsDir, a, b))) {
          if (/^[0-9a-f]{64}$/.test(name)) yield name;
        }
      }
    }
  }

  /** Path of a blob file; exported for fsck and tests. */
  pathOf(sha256: string): string {
    return join(this.blobsDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  private async ensureDir(sha256: string): Promise<string> {
    const dir = join(this.blobsDir, sha256.slice(0, 2), sha256.slice(2, 4));
    if (this.knownDirs.has(dir)) return dir;
    const created = await fsp.mkdir(dir, { recursive: true });
    if (created && this.durable) {
      await fsyncPath(join(dir, '..'));
      await fsyncPath(this.blobsDir);
    }
    this.knownDirs.add(dir);
    return dir;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}

async function readdirSafe(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch {
    return [];
  }
}

function translate(err: unknown): unknown {
  if (err instanceof CairnError) return err;
  if (isDiskFull(err)) return new InsufficientStorageError(err);
  return err;
}
