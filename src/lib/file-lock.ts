import Database from 'better-sqlite3';
import * as fs from 'node:fs';

/**
 * An exclusive lock on one file, held until released or until the process dies (kill -9 and
 * power loss included): an OS file lock (fcntl) taken through SQLite's exclusive locking mode,
 * as DataDirLock does for the data dir. Other processes, and other holders in this process,
 * cannot take it meanwhile. It says that its holder is alive, e.g. for another process deciding
 * whether leftovers are a dead writer's.
 */
export class FileLock {
  private constructor(
    private readonly db: Database.Database,
    /** The locked file. */
    readonly path: string,
  ) {}

  /**
   * Takes the lock on `path` (created if missing; its directory must exist) without waiting.
   * Returns null if someone alive holds it.
   */
  static tryAcquire(path: string, opts: { nativeBinding?: unknown } = {}): FileLock | null {
    const db = new Database(path, {
      timeout: 0,
      nativeBinding: opts.nativeBinding as string | undefined,
    });
    try {
      db.pragma('journal_mode = MEMORY');
      db.pragma('locking_mode = EXCLUSIVE');
      // In exclusive locking mode the write lock taken here is kept until the connection closes.
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') return null;
      throw err;
    }
    return new FileLock(db, path);
  }

  /** Releases the lock; with `remove`, deletes the file first (while still holding it). */
  release(opts: { remove?: boolean } = {}): void {
    if (!this.db.open) return;
    if (opts.remove) fs.rmSync(this.path, { force: true });
    this.db.close();
  }
}
