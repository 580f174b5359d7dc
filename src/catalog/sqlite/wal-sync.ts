import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';

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
   * The WAL's descriptor, opened on first use; null while there is no WAL file yet (nothing to
   * sync). SQLite removes or replaces the WAL only when its last connection closes, so while
   * the catalog is open the descriptor stays valid (no stat per sync on the event loop).
   */
  private open(): number | null {
    if (this.fd !== null) return this.fd;
    try {
      this.fd = openSync(this.walPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return this.fd;
  }
}
