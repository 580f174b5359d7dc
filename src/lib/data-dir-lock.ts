import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConflictError } from './errors.js';

/** The lock file (an empty SQLite database whose file lock is the lock) and who holds it. */
export const LOCK_FILE = 'cairn.lock';
const OWNER_FILE = 'cairn.lock.owner';

/**
 * An exclusive lock on a data directory, held by one process until it releases it or dies.
 *
 * The lock is an OS file lock (fcntl, taken through SQLite's exclusive locking mode on
 * `<dir>/cairn.lock`), so the kernel drops it with the process: after kill -9 or a power cut
 * nothing stale is left to block the next start, and a reused pid cannot fake a holder.
 * `<dir>/cairn.lock.owner` says who holds it (pid, host, since), for the refusal message only.
 */
export class DataDirLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly dir: string,
  ) {}

  /**
   * Takes the lock on `dir` (which must exist) without waiting. Throws
   * ConflictError(`data_dir_locked`) naming the holder's pid when another process, or another
   * app in this process, holds it.
   */
  static acquire(dir: string, opts: { nativeBinding?: unknown } = {}): DataDirLock {
    const db = new Database(join(dir, LOCK_FILE), {
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
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      throw new ConflictError(
        'data_dir_locked',
        `the data directory ${dir} is in use by ${holder(dir)}; stop that server first, or give this one its own --data`,
      );
    }
    const owner = `pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`;
    fs.writeFileSync(join(dir, OWNER_FILE), owner, { mode: 0o600 });
    return new DataDirLock(db, dir);
  }

  /** Releases the lock. Idempotent. */
  release(): void {
    if (!this.db.open) return;
    fs.rmSync(join(this.dir, OWNER_FILE), { force: true });
    this.db.close();
  }
}

/** "another cairn serve (pid 123 on host since ...)", as far as the owner file tells. */
function holder(dir: string): string {
  try {
    const owner = fs.readFileSync(join(dir, OWNER_FILE), 'utf8').trim().slice(0, 200);
    return `another cairn serve (${owner})`;
  } catch {
    return 'another cairn serve (pid unknown)';
  }
}
