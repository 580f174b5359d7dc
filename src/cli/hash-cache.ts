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
   * The file's lists: relative paths in the order the last push walked them, and each one's
   * entry `size:mtimeMs:ino:dev:sha256` (one string each: 10,000 parse in ~2 ms). A push walks
   * in the same order, so a lookup finds its path where the previous one ended, by one string
   * comparison: no hashing of 10,000 paths.
   */
  private rels: unknown[] = [];
  private entries: unknown[] = [];
  /** Position by path, built the first time a path is not where the walk order puts it. */
  private index?: Map<unknown, number>;
  /** Where the next lookup is expected: one past the last position found. */
  private next = 0;
  /** Positions found unchanged since {@link open} (1), and how many. */
  private hit = new Uint8Array(0);
  private hits = 0;
  /** Entries recorded since {@link open} (undefined: forget that path), which outrank the file's. */
  private readonly recorded = new Map<string, string | undefined>();
  /** Every path found or recorded since {@link open}, in that order (a path may repeat). */
  private readonly seen: string[] = [];

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
        rels?: unknown;
        entries?: unknown;
      };
      const { rels, entries } = data;
      if (
        data.format === FORMAT &&
        data.root === root &&
        Array.isArray(rels) &&
        Array.isArray(entries) &&
        rels.length === entries.length
      ) {
        cache.rels = rels as unknown[];
        cache.entries = entries as unknown[];
        cache.hit = new Uint8Array(rels.length);
      }
    } catch {
      // No cache yet, or a damaged one: start empty; save() replaces it.
    }
    return cache;
  }

  /** The sha256 remembered for `rel` if its stamp is the one it had when hashed. */
  lookup(rel: string, stamp: FileStamp): string | undefined {
    const mine = this.recorded.size > 0 && this.recorded.has(rel);
    const pos = mine ? -1 : this.position(rel);
    const e = mine ? this.recorded.get(rel) : this.entries[pos];
    if (typeof e !== 'string') return undefined;
    const key = stampKey(stamp);
    if (e.length !== key.length + 64 || !e.startsWith(key)) return undefined;
    this.found(pos, rel);
    // Not checked for hex: a damaged one matches no server sha256, so the file is read.
    return e.slice(key.length);
  }

  /** Remembers `sha256` for `rel` as it was when stamped (not if it changed just before). */
  record(rel: string, stamp: FileStamp, sha256: string): void {
    const entry = `${stampKey(stamp)}${sha256}`;
    if (!this.recorded.has(rel)) {
      const pos = this.position(rel);
      if (pos >= 0 && this.entries[pos] === entry) return this.found(pos, rel);
    }
    this.seen.push(rel);
    this.recorded.set(rel, stamp.mtimeMs > Date.now() - RECENT_MS ? undefined : entry);
  }

  /**
   * Writes the entries found or recorded since {@link open}, in that order (files gone from
   * the directory are dropped), through a temp file and a rename, if anything changed. Never
   * throws.
   */
  save(): void {
    if (this.recorded.size === 0 && this.hits === this.rels.length) return;
    const rels: string[] = [];
    const entries: string[] = [];
    const done = new Set<string>();
    for (const rel of this.seen) {
      if (done.has(rel)) continue;
      done.add(rel);
      const e = this.recorded.has(rel) ? this.recorded.get(rel) : this.entries[this.at(rel)];
      if (typeof e !== 'string') continue;
      rels.push(rel);
      entries.push(e);
    }
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, JSON.stringify({ format: FORMAT, root: this.root, rels, entries }), {
        mode: 0o600,
      });
      renameSync(tmp, this.file);
    } catch {
      // A read-only or full cache dir costs the next push its hashing, nothing else.
      rmSync(tmp, { force: true });
    }
  }

  /** Where `rel` is in the file's lists (-1: not there): first where the walk order puts it. */
  private position(rel: string): number {
    const i = this.next;
    if (i < this.rels.length && this.rels[i] === rel) {
      this.next = i + 1;
      return i;
    }
    const j = this.at(rel);
    if (j >= 0) this.next = j + 1;
    return j;
  }

  /** Where `rel` is in the file's lists by the index (-1: not there). */
  private at(rel: string): number {
    this.index ??= new Map(this.rels.map((r, i) => [r, i]));
    return this.index.get(rel) ?? -1;
  }

  /** Notes that `rel` (at `pos` in the file's lists, or -1) was found unchanged. */
  private found(pos: number, rel: string): void {
    this.seen.push(rel);
    if (pos >= 0 && this.hit[pos] === 0) {
      this.hit[pos] = 1;
      this.hits++;
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

/** The {@link HashCache} of each directory a push walks, opened when first asked for. */
export class HashCaches {
  private readonly caches = new Map<string, HashCache>();

  constructor(private readonly dir = defaultCacheDir()) {}

  /** The cache of directory `root` (an absolute, real path). */
  of(root: string): HashCache {
    let c = this.caches.get(root);
    if (!c) this.caches.set(root, (c = HashCache.open(root, this.dir)));
    return c;
  }

  /** Saves every cache opened (see {@link HashCache.save}). Never throws. */
  save(): void {
    for (const c of this.caches.values()) c.save();
  }
}
