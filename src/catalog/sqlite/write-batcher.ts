import type Database from 'better-sqlite3';
import { InsufficientStorageError, isDiskFull } from '../../lib/errors.js';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Pending {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  outcome?: Outcome;
}

/**
 * Group commit: writes queued in the same turn of the event loop run in one transaction (one
 * fsync), each in its own savepoint so one failing write does not undo the others. A write's
 * promise settles only after the transaction holding it has committed.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly runBatch: (batch: Pending[]) => void;

  constructor(
    db: Database.Database,
    private readonly maxBatch = 512,
  ) {
    const one = db.transaction((fn: () => unknown) => fn());
    this.runBatch = db.transaction((batch: Pending[]) => {
      for (const p of batch) {
        try {
          p.outcome = { ok: true, value: one(p.fn) };
        } catch (error) {
          p.outcome = { ok: false, error: diskFull(error) };
        }
      }
    });
  }

  /** Runs `fn` inside the next batch transaction; resolves with its value once committed. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now (used before close). */
  flush(): void {
    this.scheduled = false;
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
        if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      }
    }
  }
}

/** SQLITE_FULL (the disk is full) becomes the 507 every transport knows; other errors pass. */
function diskFull(err: unknown): unknown {
  return isDiskFull(err) ? new InsufficientStorageError(err) : err;
}
