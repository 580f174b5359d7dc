import { closeSync, fsync, openSync, writeSync } from 'node:fs';
import type Database from 'better-sqlite3';

/** Options for {@link Checkpointer}. */
export interface CheckpointerOptions {
  /** Resolves after a WAL fsync that started after the call (the write batcher's sync point). */
  syncPoint: () => Promise<void>;
  /** Start a round once this many group commits happened since the last (default 64). */
  commitsPerRound?: number;
  /** Or this long after a commit, if fewer happened (default 1 s). */
  idleMs?: number;
  /** A round that failed before copying anything: reported, retried by the next round. */
  onError?: (err: unknown) => void;
  /**
   * catalog.db's fsync failed after pages were copied into it unsynced. The pin is never
   * released, so this process never reuses the WAL frames holding those pages; the default
   * logs and kills the process with SIGKILL, so no clean close checkpoints and deletes the
   * WAL either, and the next start replays it (after an fsync error the kernel may have
   * dropped the unwritten pages: retrying the fsync would report success over lost data).
   */
  onFatal?: (err: unknown) => void;
}

/** One round's figures, as SQLite's `wal_checkpoint` reported them. */
export interface CheckpointRound {
  /** Frames in the WAL and frames copied into the database by the unsynced pass. */
  log: number;
  copied: number;
  /** Frames in the WAL after the closing pass (0 once everything is copied). */
  remaining: number;
}

/**
 * Checkpoints the WAL without blocking the event loop on the database file's fsync. SQLite's
 * automatic checkpoint (turned off on the main connection) copies WAL frames into catalog.db
 * and fsyncs it inside a commit, which stalled every push for the length of that fsync (~12%
 * of small-push throughput). A round here instead:
 *
 * 1. pins the current end of the WAL with a read transaction on a second connection, so no
 *    checkpoint copies frames after it and the WAL cannot restart from its start;
 * 2. waits for a WAL fsync started after the pin (every pinned frame is durable, as SQLite's
 *    own checkpoint ensures by syncing the WAL first);
 * 3. copies the pinned frames with `synchronous = OFF` (no fsync, on the event loop);
 * 4. fsyncs catalog.db on libuv's pool, and only then releases the pin: until the copied pages
 *    are on disk, the frames holding them cannot be overwritten (if that fsync fails, the pin
 *    is kept for good and `onFatal` runs);
 * 5. runs a last ordinary checkpoint (SQLite's syncs, little left to write) for the frames
 *    committed meanwhile, so the next commit restarts the WAL from its start.
 */
export class Checkpointer {
  private commits = 0;
  private running: Promise<CheckpointRound | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private completed = 0;
  private closing: Promise<void> | null = null;
  private fatal = false;
  private readonly pinRead: Database.Statement;
  /** catalog.db, open for fsync from the start (no open() that could fail mid-round). */
  private readonly dbFd: number;

  /**
   * @param db the writing connection (its automatic checkpoint is turned off here)
   * @param pin a second connection to the same file, used only to hold the pin
   * @param dbPath catalog.db, fsynced after each unsynced copy
   */
  constructor(
    private readonly db: Database.Database,
    private readonly pin: Database.Database,
    dbPath: string,
    private readonly o: CheckpointerOptions,
  ) {
    this.dbFd = openSync(dbPath, 'r');
    db.pragma('wal_autocheckpoint = 0');
    this.pinRead = pin.prepare('SELECT count(*) AS n FROM sqlite_master');
  }

  /** Rounds completed so far (for tests and metrics). */
  get rounds(): number {
    return this.completed;
  }

  /** Call after each group commit; starts a round when enough was committed. */
  noteCommit(): void {
    if (this.closed) return;
    this.commits++;
    if (this.running) return;
    if (this.commits >= (this.o.commitsPerRound ?? 64)) {
      this.runReported();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (!this.running && this.commits > 0) this.runReported();
    }, this.o.idleMs ?? 1000).unref();
  }

  private runReported(): void {
    this.run().catch((err: unknown) => (this.o.onError ?? reportRoundError)(err));
  }

  /**
   * Runs a round now (or waits for the running one). A failed round (disk full, I/O error) is
   * reported and changes nothing: the frames stay in the WAL for the next round.
   */
  run(): Promise<CheckpointRound | null> {
    if (this.closed || this.fatal) return Promise.resolve(null);
    if (this.running) return this.running;
    this.commits = 0;
    this.running = this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Waits for a running round, then releases the pin connection (before the main one closes).
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    if (this.fatal) return;
    if (this.pin.open) this.pin.close();
    closeSync(this.dbFd);
  }

  private async round(): Promise<CheckpointRound> {
    let first: { log: number; checkpointed: number };
    this.pin.exec('BEGIN');
    let release = true;
    try {
      this.pinRead.get();
      await this.o.syncPoint();
      this.db.pragma('synchronous = OFF');
      try {
        first = this.checkpoint();
      } finally {
        this.db.pragma('synchronous = NORMAL');
      }
      try {
        await new Promise<void>((resolve, reject) =>
          fsync(this.dbFd, (err) => (err ? reject(err) : resolve())),
        );
      } catch (err) {
        release = false;
        this.fatal = true;
        (this.o.onFatal ?? dieOnFsyncError)(err);
        throw err;
      }
    } finally {
      if (release) this.pin.exec('COMMIT');
    }
    const last = this.db.open ? this.checkpoint() : { log: -1, checkpointed: -1 };
    this.completed++;
    return {
      log: first.log,
      copied: first.checkpointed,
      remaining: last.log - last.checkpointed,
    };
  }

  private checkpoint(): { log: number; checkpointed: number } {
    const [row] = this.db.pragma('wal_checkpoint(PASSIVE)') as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    return row;
  }
}

function reportRoundError(err: unknown): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: `checkpoint round failed, retried later: ${(err as Error)?.message}` })}\n`,
  );
}

function dieOnFsyncError(err: unknown): void {
  writeSync(
    2,
    `${JSON.stringify({ level: 'fatal', msg: `fsync of catalog.db failed after a checkpoint copy (${(err as Error)?.message}); stopping without a clean close so the next start replays the WAL` })}\n`,
  );
  process.kill(process.pid, 'SIGKILL');
}
