import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's full collection, or null where it cannot be had. `--expose-gc` set at run time makes
 * `gc` a global of contexts created afterwards (the main one keeps its globals).
 */
function fullCollection(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

/**
 * Gives memory back to the system once a burst of large buffers is over. Buffers dropped by
 * their owners are garbage V8 frees only at its next full collection, and nothing allocates
 * after the burst to trigger one (500 closed uploads kept ~320 MiB resident until the next
 * wave of work). Owners report what they drop; once `threshold` bytes were dropped and no more
 * activity came for `quietMs`, one full collection runs. During steady work V8's own
 * collections keep up and this never fires.
 */
export class IdleCollector {
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private gc: (() => void) | null | undefined;

  /** @param onCollect called after each collection this runs (a metric counts them) */
  constructor(
    private readonly onCollect: () => void = () => undefined,
    private readonly threshold = 32 * 1024 * 1024,
    private readonly quietMs = 1000,
  ) {}

  /** Notes activity of the owner: a pending collection waits until it is quiet again. */
  touch(): void {
    this.timer?.refresh();
  }

  /** Notes `bytes` dropped (now garbage); may schedule a collection for when it is quiet. */
  drop(bytes: number): void {
    this.dropped += bytes;
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    if (this.dropped < this.threshold) return;
    this.timer = setTimeout(() => this.collect(), this.quietMs);
    this.timer.unref();
  }

  private collect(): void {
    this.timer = null;
    this.dropped = 0;
    this.gc ??= fullCollection();
    this.gc?.();
    this.onCollect();
  }
}
