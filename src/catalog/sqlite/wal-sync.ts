import { closeSync, fsync, fsyncSync, openSync, statSync } from 'node:fs';

/**
 * Makes committed WAL frames durable off the event loop. The catalog runs SQLite with
 * `synchronous = NORMAL` (a commit appends to `catalog.db-wal` without an fsync) and the write
 * batcher calls {@link WalSync.sync} after each commit; a write is acknowledged only once it
 * resolves. That is exactly `synchronous = FULL`'s guarantee (the WAL is synced after each
 * commit; NORMAL already syncs around checkpoints and WAL restarts), but the fsync runs on
 * libuv's thread pool, so pushes keep being parsed and the next batch keeps committing while
 * the disk works, and one fsync covers every batch committed before it started.
 */
export class WalSync {
  private fd: number | null = null;
  private ino = -1;

  /** @param walPath the database's `-wal` file (it need not exist yet). */
  constructor(private readonly walPath: string) {}

  /** Resolves once every WAL frame written before the call is on disk; rejects on I/O errors. */
  sync(): Promise<void> {
    const fd = this.open();
    if (fd === null) return Promise.resolve();
    return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** The same, blocking (start-up after migrations, and close). */
  syncNow(): void {
    const fd = this.open();
    if (fd !== null) fsyncSync(fd);
  }

  /** Releases the descriptor. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /**
   * The descriptor of the current WAL file, reopened when SQLite replaced it (a new inode);
   * null while there is no WAL file (nothing to sync).
   */
  private open(): number | null {
    let ino: number;
    try {
      ino = statSync(this.walPath).ino;
    } catch {
      this.close();
      return null;
    }
    if (this.fd === null || ino !== this.ino) {
      this.close();
      this.fd = openSync(this.walPath, 'r');
      this.ino = ino;
    }
    return this.fd;
  }
}
