import type Database from 'better-sqlite3';
import { InsufficientStorageError, isDiskFull } from '../../lib/errors.js';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Pending {
  fn: () => unknown;
  /** Settle at commit, without waiting for the sync (see runOrdered). */
  ordered?: boolean;
  /** One statement: no savepoint (see WriteOptions). */
  single?: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  outcome?: Outcome;
}

/** Options for one write. */
export interface WriteOptions {
  /**
   * `fn` runs exactly one statement. SQLite undoes a failing statement by itself, so such a
   * write skips the savepoint (two statements fewer per write) and still cannot leave half of
   * itself behind.
   */
  single?: boolean;
}

/** Options for {@link WriteBatcher}. */
export interface WriteBatcherOptions {
  /**
   * Makes every commit made before the call durable (the WAL fsync, see WalSync). Absent: a
   * commit is acknowledged as soon as SQLite returns (durability `process`).
   */
  sync?: () => Promise<void>;
  /** Most writes in one transaction (default 512). */
  maxBatch?: number;
  /** Called after each flush that committed a transaction (the Checkpointer counts them). */
  afterCommit?: () => void;
}

/**
 * Group commit: writes queued in the same turn of the event loop run in one transaction, each
 * in its own savepoint so one failing write does not undo the others. A write's promise
 * settles only after the transaction holding it has committed and, with `sync`, after a sync
 * that started after that commit has finished. Syncs never overlap: batches committed while
 * one runs wait for the next, which covers all of them (one fsync for many batches).
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private unsynced: Pending[] = [];
  private syncing: Promise<void> | null = null;
  private readonly runBatch: (batch: Pending[]) => void;
  private readonly maxBatch: number;

  constructor(
    db: Database.Database,
    private readonly opts: WriteBatcherOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? 512;
    const one = db.transaction((fn: () => unknown) => fn());
    // BEGIN IMMEDIATE: the write lock is taken at the start (waiting up to busy_timeout while
    // another connection writes), so a batch that reads and then writes never fails with
    // SQLITE_BUSY mid-way when other processes share the file.
    const batchTx = db.transaction((batch: Pending[]) => {
      for (const p of batch) {
        try {
          p.outcome = { ok: true, value: p.single ? p.fn() : one(p.fn) };
        } catch (error) {
          p.outcome = { ok: false, error: diskFull(error) };
        }
      }
    });
    this.runBatch = (batch) => batchTx.immediate(batch);
  }

  /** Runs `fn` inside the next batch transaction; resolves with its value once durable. */
  run<T>(fn: () => T, opts: WriteOptions = {}): Promise<T> {
    return this.enqueue(fn, false, opts.single);
  }

  /**
   * Like {@link run}, but resolves as soon as the transaction holding `fn` has committed. The
   * write is durable once any later {@link run} write resolves (that one's sync starts after
   * this commit): for a write that only matters together with a later one, such as a small
   * blob's bytes before the artifact row that references them.
   */
  runOrdered<T>(fn: () => T, opts: WriteOptions = {}): Promise<T> {
    return this.enqueue(fn, true, opts.single);
  }

  private enqueue<T>(fn: () => T, ordered: boolean, single = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, ordered, single, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now (the sync, if any, follows asynchronously). */
  flush(): void {
    this.scheduled = false;
    const committed = this.queue.length > 0;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        this.runBatch(batch);
      } catch (err) {
        for (const p of batch) p.reject(diskFull(err));
        continue;
      }
      for (const p of batch) {
        const o = p.outcome as Outcome;
        if (!o.ok) p.reject(o.error);
        else if (this.opts.sync && !p.ordered) this.unsynced.push(p);
        else p.resolve(o.value);
      }
    }
    this.startSync();
    if (committed) this.opts.afterCommit?.();
  }

  /** Commits what is queued and waits until every committed write is settled (before close). */
  async drain(): Promise<void> {
    this.flush();
    while (this.syncing) await this.syncing;
  }

  private startSync(): void {
    const sync = this.opts.sync;
    if (!sync || this.syncing || this.unsynced.length === 0) return;
    const group = this.unsynced;
    this.unsynced = [];
    this.syncing = sync().then(
      () => {
        for (const p of group) p.resolve((p.outcome as { value: unknown }).value);
        this.syncing = null;
        this.startSync();
      },
      (err: unknown) => {
        for (const p of group) p.reject(diskFull(err));
        this.syncing = null;
        this.startSync();
      },
    );
  }
}

/** A full disk (SQLITE_FULL, ENOSPC) becomes the 507 every transport knows; others pass. */
function diskFull(err: unknown): unknown {
  return isDiskFull(err) ? new InsufficientStorageError(err) : err;
}
