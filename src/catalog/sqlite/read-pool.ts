import { Worker } from 'node:worker_threads';
import { CairnError } from '../../lib/errors.js';
import type { CatalogRead } from './catalog-reads.js';
import type { ReadFailure, ReadReply, ReadRequest, ReadWorkerData } from './read-worker.js';
import { readWorkerScript } from './read-worker-script.js';

/** 400: a read ran past its budget (`--query-timeout`); the message says how to narrow it. */
export class QueryTooExpensiveError extends CairnError {
  constructor(budgetMs: number) {
    super(
      'query_too_expensive',
      400,
      `the query ran longer than its ${budgetMs / 1000} s budget and was stopped: narrow it — ` +
        'add session=, a selective meta.KEY=VALUE, type= or since=, use fewer where= terms ' +
        '(or fewer values in an in (…) list), or ask for a smaller limit',
      { details: { budget_ms: budgetMs } },
    );
  }
}

/** Options for {@link ReadPool}. */
export interface ReadPoolOptions {
  /** Path of catalog.db (WAL mode; the workers open it read-only). */
  file: string;
  /** Longest a read may run, in ms, before its worker is stopped. */
  budgetMs: number;
  /** Worker threads (default 2). */
  threads?: number;
}

interface Task {
  id: number;
  read: CatalogRead;
  args: unknown[];
  budgeted: boolean;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  task: Task | null;
  timer: NodeJS.Timeout | null;
}

/**
 * Worker threads, each with its own read-only connection, that run the catalog's expensive
 * reads (see catalog-reads.ts) so that the thread serving HTTP never waits on one: a read
 * costing seconds holds one worker, while health checks, pushes and other reads go on.
 *
 * Reads queue in order and go to the first idle worker. Each has `budgetMs` from the moment a
 * worker takes it; past that it is rejected with {@link QueryTooExpensiveError} and its worker
 * terminated (it stops at its next call into JavaScript: once per row a where= tests, see
 * compileWhere) and replaced. Workers start on the first read, so a catalog opened for a
 * short command never starts any. Reads see every commit made before they were asked
 * (WAL: a committed transaction is visible to every read that starts after it).
 */
export class ReadPool {
  private readonly threads = new Set<Thread>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: ReadPoolOptions) {}

  /** Reads a worker is running now (for tests that must act while one runs). */
  get running(): number {
    let n = 0;
    for (const t of this.threads) if (t.task) n++;
    return n;
  }

  /**
   * Runs `read(db, ...args)` on a worker. Rejects with its error (a CairnError keeps its code),
   * or with {@link QueryTooExpensiveError} past the budget unless `budgeted` is false (a read
   * whose every row the caller needs, such as a session's artifacts for an export).
   */
  run<T>(read: CatalogRead, args: unknown[], budgeted = true): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the catalog is closed'));
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const settle = resolve as (v: unknown) => void;
      this.queue.push({ id, read, args, budgeted, resolve: settle, reject });
      this.pump();
    });
  }

  /** Rejects what waits, terminates every worker (a read in progress fails). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new Error('the catalog is closed'));
    const stopping = [...this.threads].map((t) => this.drop(t, new Error('the catalog is closed')));
    await Promise.all(stopping);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const idle = [...this.threads].find((t) => t.ready && !t.task);
      if (!idle) {
        if (this.threads.size < (this.o.threads ?? 2)) this.start();
        return;
      }
      this.give(idle, this.queue.shift() as Task);
    }
  }

  private give(thread: Thread, task: Task): void {
    thread.task = task;
    thread.worker.ref();
    if (task.budgeted)
      thread.timer = setTimeout(
        () => {
          void this.drop(thread, new QueryTooExpensiveError(this.o.budgetMs));
          this.pump();
          // setTimeout takes at most 2^31-1 ms (~24 days) and fires at once for more.
        },
        Math.min(this.o.budgetMs, 2 ** 31 - 1),
      );
    thread.worker.postMessage([task.id, task.read, task.args] satisfies ReadRequest);
  }

  private start(): void {
    const script = readWorkerScript();
    const workerData: ReadWorkerData & { cairnReadWorker: true } = {
      cairnReadWorker: true,
      file: this.o.file,
      nativeBindingPath: script.nativeBindingPath,
    };
    const worker = script.code
      ? new Worker(script.code, { eval: true, workerData })
      : new Worker(script.file as URL, { workerData });
    const thread: Thread = { worker, ready: false, task: null, timer: null };
    this.threads.add(thread);
    worker.on('message', (reply: ReadReply) => this.answer(thread, reply));
    worker.on('error', (err) => {
      // One that cannot even open the catalog would fail the same way again: fail what waits.
      if (!thread.ready) for (const t of this.queue.splice(0)) t.reject(err);
      void this.drop(thread, err);
    });
    worker.on('exit', () => {
      void this.drop(thread, new Error('a catalog read worker stopped'));
      this.pump();
    });
  }

  private answer(thread: Thread, reply: ReadReply): void {
    if (reply[0] === 'ready') {
      thread.ready = true;
      this.pump();
      if (!thread.task) thread.worker.unref();
      return;
    }
    const task = thread.task;
    if (!task || task.id !== reply[0]) return;
    this.settle(thread);
    if (reply[1]) task.resolve(reply[2]);
    else task.reject(toError(reply[2]));
    this.pump();
  }

  /** Frees `thread` of its task (timer cleared; idle, it must not keep the process alive). */
  private settle(thread: Thread): Task | null {
    const task = thread.task;
    if (thread.timer) clearTimeout(thread.timer);
    thread.timer = null;
    thread.task = null;
    thread.worker.unref();
    return task;
  }

  /** Takes `thread` out of the pool, fails its task with `err`, and terminates it. */
  private async drop(thread: Thread, err: Error): Promise<void> {
    if (!this.threads.delete(thread)) return;
    this.settle(thread)?.reject(err);
    await thread.worker.terminate();
  }
}

function toError(f: ReadFailure): Error {
  if (f.code && f.status)
    return new CairnError(f.code, f.status, f.message, { details: f.details });
  return new Error(f.message);
}
