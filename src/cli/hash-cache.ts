import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What identifies a file's bytes without reading them (rsync's quick check, plus the inode):
 * the number fields of an lstat. `mtimeMs` keeps the nanoseconds to a quarter of a
 * microsecond (a double); two writes that close together are caught by the 2 s rule below.
 */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

/**
 * A file changed less than this long before it was looked at is not remembered: a write in
 * the same tick of the filesystem's clock (ext4: a few ms; FAT, some network filesystems:
 * 1–2 s) would leave size and mtime as they were (git's "racily clean" entries).
 */
const RECENT_MS = 2000;
const FORMAT = 3;

/**
 * The sha256 of each file of one directory pushed before, by path relative to it, with the
 * stamp it had when it was hashed: a file whose stamp is unchanged is not read again (as
 * rsync's quick check, it trusts that a write changes the size or the mtime). Kept in
 * `$XDG_CACHE_HOME/cairn/push/` (default `~/.cache/cairn/push/`), one file per directory. A
 * cache that cannot be read or parsed is treated as empty and rewritten; one that cannot be
 * written is left alone (the next push hashes again). Not safe across threads; concurrent
 * processes each write a whole file, the last one stays.
 */
export class HashCache {
  /**
   * By relative path: `size:mtimeMs:ino:dev:sha256` (one string: 10,000 parse in ~5 ms), as
   * the file holds them: the parsed JSON object itself, read through {@link own}; no copy.
   */
  private entries: Record<string, string> = Object.create(null) as Record<string, string>;
  /** Entries recorded since {@link open}, which {@link save} writes over `entries`. */
  private readonly recorded = new Map<string, string | undefined>();
  private readonly seen = new Set<string>();
  private size = 0;

  private constructor(
    private readonly root: string,
    private readonly file: string,
  ) {}

  /** The cache of directory `root` (an absolute, real path), empty if none or unreadable. */
  static open(root: string, dir = defaultCacheDir()): HashCache {
    const file = join(dir, `${createHash('sha256').update(root).digest('hex').slice(0, 32)}.json`);
    const cache = new HashCache(root, file);
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as {
        format?: unknown;
        root?: unknown;
        files?: unknown;
      };
      if (data.format === FORMAT && data.root === root && isRecord(data.files)) {
        cache.entries = data.files as Record<string, string>;
        cache.size = Object.keys(cache.entries).length;
      }
    } catch {
      // No cache yet, or a damaged one: start empty; save() replaces it.
    }
    return cache;
  }

  /** The sha256 remembered for `rel` if its stamp is the one it had when hashed. */
  lookup(rel: string, stamp: FileStamp): string | undefined {
    const e = this.own(rel);
    if (typeof e !== 'string') return undefined;
    const key = stampKey(stamp);
    if (e.length !== key.length + 64 || !e.startsWith(key)) return undefined;
    this.seen.add(rel);
    // Not checked for hex: a damaged one matches no server sha256, so the file is read.
    return e.slice(key.length);
  }

  /** Remembers `sha256` for `rel` as it was when stamped (not if it changed just before). */
  record(rel: string, stamp: FileStamp, sha256: string): void {
    this.seen.add(rel);
    const entry = `${stampKey(stamp)}${sha256}`;
    if (this.own(rel) === entry) return;
    this.recorded.set(rel, stamp.mtimeMs > Date.now() - RECENT_MS ? undefined : entry);
  }

  /** The entry for `rel`: recorded since open, else read from the file (own keys only). */
  private own(rel: string): unknown {
    if (this.recorded.has(rel)) return this.recorded.get(rel);
    return Object.hasOwn(this.entries, rel) ? this.entries[rel] : undefined;
  }

  /**
   * Writes the entries looked up or recorded since {@link open} (files gone from the directory
   * are dropped) through a temp file and a rename, if anything changed. Never throws.
   */
  save(): void {
    if (this.recorded.size === 0 && this.seen.size === this.size) return;
    const files = Object.create(null) as Record<string, string>;
    for (const rel of this.seen) {
      const e = this.own(rel);
      if (typeof e === 'string') files[rel] = e;
    }
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, JSON.stringify({ format: FORMAT, root: this.root, files }), {
        mode: 0o600,
      });
      renameSync(tmp, this.file);
    } catch {
      // A read-only or full cache dir costs the next push its hashing, nothing else.
      rmSync(tmp, { force: true });
    }
  }
}

/** `size:mtimeMs:ino:dev:`, what an entry starts with. */
function stampKey(s: FileStamp): string {
  return `${s.size}:${s.mtimeMs}:${s.ino}:${s.dev}:`;
}

/** `$XDG_CACHE_HOME/cairn/push`, or `~/.cache/cairn/push`. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'cairn', 'push');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
