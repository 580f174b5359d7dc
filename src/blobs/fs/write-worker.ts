import { Worker } from 'node:worker_threads';

/**
 * The worker's script, evaluated as CommonJS so that the single binary needs no file for it.
 * `[id, job, 'write', buffer, start, length, hashed, fd, position]` hashes the first `hashed`
 * bytes from `start` at once (messages are handled in order, so a job's bytes are hashed in
 * the order they were sent), writes `length` bytes at `position` of `fd`, and answers
 * `[id, null, error, buffer]` when the write is done, handing the buffer back. A short write is
 * reported as ENOSPC: O_DIRECT writes stop short when the disk fills. `[id, job, 'digest']`
 * answers `[id, hex]` and forgets the job.
 */
const SCRIPT = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { write } = require('node:fs');
const jobs = new Map();
parentPort.on('message', ([id, job, op, buffer, start, length, hashed, fd, position]) => {
  let hash = jobs.get(job);
  if (!hash) jobs.set(job, (hash = createHash('sha256')));
  if (op === 'digest') {
    jobs.delete(job);
    return parentPort.postMessage([id, hash.digest('hex'), null, null]);
  }
  const bytes = new Uint8Array(buffer, start, length);
  hash.update(bytes.subarray(0, hashed));
  write(fd, bytes, 0, length, position, (err, written) => {
    let error = err ? { message: err.message, code: err.code } : null;
    if (!err && written !== length)
      error = { message: 'the disk is full (short write)', code: 'ENOSPC' };
    parentPort.postMessage([id, null, error, buffer], [buffer]);
  });
});
`;

type Reply = [
  id: number,
  digest: string | null,
  error: { message: string; code: string } | null,
  buffer: ArrayBuffer | null,
];

/** A job's id, and the worker it began on (null before its first message). */
interface JobState {
  id: number;
  thread: Thread | null;
}

interface Owed {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

/** One started worker, what it owes, and why it is stopping (once it is). */
interface Thread {
  worker: Worker;
  owed: Map<number, Owed>;
  error: Error | null;
}

/**
 * One worker thread that hashes and writes uploads for the whole process, so the thread
 * receiving an upload does neither: on this machine a node:http upload over loopback arrived
 * at ~2.3 GB/s without hashing and ~0.8 GB/s with sha256 on the same thread (sha256 runs at
 * 1.4–2.2 GB/s on one core, depending on the run). Buffers are transferred to it and back,
 * never shared: the receiving side cannot touch a buffer while it is being hashed and
 * written, and no isolate keeps a reference to memory it no longer uses.
 *
 * A worker that fails or is stopped is replaced for new jobs at once, but what it owed is
 * rejected only when it has exited: until then a write of it may still be running, and the
 * caller must not close (and so free for reuse) the descriptor it writes to.
 */
class WriteWorker {
  private current: Thread | null = null;
  private nextId = 1;
  private nextJob = 1;

  job(): JobState {
    return { id: this.nextJob++, thread: null };
  }

  /**
   * Sends a job's message to the current worker (started if none). Refused if the job began
   * on a worker that has stopped since: the new one would hash only the rest of its bytes.
   */
  send(job: JobState, msg: unknown[], transfer: ArrayBuffer[] = []): Promise<Reply> {
    const thread = this.start();
    job.thread ??= thread;
    if (job.thread !== thread)
      return Promise.reject(new Error('the upload worker restarted during this upload'));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (thread.owed.size === 0) thread.worker.ref();
      thread.owed.set(id, { resolve, reject });
      thread.worker.postMessage([id, job.id, ...msg], transfer);
    });
  }

  /** Makes the worker forget a job it has seen; never starts a worker for that. */
  end(job: JobState): void {
    if (job.thread && job.thread === this.current)
      this.send(job, ['digest']).catch(() => undefined);
  }

  /** Terminates the worker; what it owed is rejected and the next job starts a new one. */
  async stop(): Promise<void> {
    const thread = this.current;
    if (!thread) return;
    this.fail(thread, new Error('the upload worker was stopped'));
    await thread.worker.terminate();
  }

  private start(): Thread {
    if (this.current) return this.current;
    const worker = new Worker(SCRIPT, {
      eval: true,
      // It allocates a hash per job and a message per buffer: a small heap is plenty, and
      // kept the server's peak RSS ~3 MiB lower while streaming 5 GiB.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    });
    const thread: Thread = { worker, owed: new Map(), error: null };
    worker.on('message', (reply: Reply) => {
      const owed = thread.owed.get(reply[0]);
      if (!owed) return;
      thread.owed.delete(reply[0]);
      // Idle, it must not keep the process alive; with answers owed, it must.
      if (thread.owed.size === 0) worker.unref();
      owed.resolve(reply);
    });
    worker.on('error', (err) => this.fail(thread, err));
    worker.on('exit', () => {
      this.fail(thread, new Error('the upload worker stopped'));
      const owed = [...thread.owed.values()];
      thread.owed.clear();
      for (const o of owed) o.reject(thread.error as Error);
    });
    worker.unref(); // after the listeners: adding one refs the port again
    this.current = thread;
    return thread;
  }

  /** Stops `thread` and keeps why; new jobs go to a new worker. Its debts wait for 'exit'. */
  private fail(thread: Thread, err: Error): void {
    thread.error ??= err;
    if (this.current !== thread) return;
    this.current = null;
    void thread.worker.terminate();
  }
}

const shared = new WriteWorker();

/** One file written through the upload worker, hashed in the order its buffers are sent. */
export interface WriteJob {
  /**
   * Transfers `buffer` to the worker (it is detached here until this resolves), which hashes
   * `hashed` bytes from `start` and writes `length` bytes from `start` at `position` of the
   * job's file; resolves with the buffer back once written. Rejects with the write's error
   * (`code` kept; a short write is ENOSPC), the buffer then lost; or if the worker stopped
   * since the job's first call (its hash would be incomplete).
   */
  write(
    buffer: ArrayBuffer,
    start: number,
    length: number,
    hashed: number,
    position: number,
  ): Promise<ArrayBuffer>;
  /** Resolves with the hex sha256 of everything hashed; the job is then finished. */
  digest(): Promise<string>;
  /** Abandons the job: the worker forgets it (no worker is started for that). */
  end(): void;
}

/** Starts a job writing to the open descriptor `fd` (which must stay open until it is done). */
export function writeJob(fd: number): WriteJob {
  const job = shared.job();
  return {
    async write(buffer, start, length, hashed, position) {
      const msg = ['write', buffer, start, length, hashed, fd, position];
      const [, , error, back] = await shared.send(job, msg, [buffer]);
      if (error) throw Object.assign(new Error(error.message), { code: error.code });
      return back as ArrayBuffer;
    },
    async digest() {
      const [, hex] = await shared.send(job, ['digest']);
      return hex as string;
    },
    end() {
      shared.end(job);
    },
  };
}

/** Terminates the upload worker (uploads in progress fail); the next upload starts a new one. */
export function stopWriteWorker(): Promise<void> {
  return shared.stop();
}
