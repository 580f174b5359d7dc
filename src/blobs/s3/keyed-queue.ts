/**
 * Runs tasks of the same key one after another (tasks of different keys at once): the S3
 * store commits the same bytes one at a time in a process, so the second sees the first's
 * object and reports the bytes as not new (radosgw 16 ignores If-None-Match on
 * CompleteMultipartUpload, which would otherwise decide it).
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` once every earlier task of `key` has settled; resolves with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
