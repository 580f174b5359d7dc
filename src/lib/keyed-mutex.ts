/**
 * Serializes async work per key within this process: `run(key, fn)` waits for every earlier
 * `run` with the same key to settle before calling `fn`. Used so that garbage collection of a
 * blob and a concurrent push of the same bytes never interleave.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` once all earlier work on `key` is done; resolves or rejects as `fn` does. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /**
   * Runs `fn` holding the locks of every key (taken in the order given: pass them sorted, so
   * two callers with overlapping keys cannot wait on each other).
   */
  runAll<T>(keys: readonly string[], fn: () => Promise<T>, i = 0): Promise<T> {
    if (i >= keys.length) return fn();
    return this.run(keys[i], () => this.runAll(keys, fn, i + 1));
  }
}
