import type { BlobStore } from '../blobs/blob-store.js';
import type { Coordinator } from './coordinator.js';
import type { RetentionService } from './retention-service.js';

/**
 * The background job that keeps storage from growing forever: every `intervalMs` it runs
 * {@link RetentionService.sweep} (bounded batches, then unreferenced blobs) and removes the blob
 * store's abandoned uploads (see BlobStore.sweepAbandoned) if this node is the leader (see
 * Coordinator; a standby only asks again at the next interval). At most one sweep runs at a
 * time in a process; `stop` waits for the one in progress.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<unknown> | null = null;
  private stopped = true;
  /**
   * Sweeps finished (successfully or not) since start, how many of them failed, and rounds
   * skipped because another node was the leader.
   */
  readonly stats = { runs: 0, failures: 0, standby: 0 };

  constructor(
    private readonly o: {
      retention: RetentionService;
      /** Who may sweep; a node that is not leader skips the round. */
      coordinator: Coordinator;
      intervalMs: number;
      /** Its abandoned uploads are removed after each sweep (see BlobStore.sweepAbandoned). */
      blobs?: BlobStore;
      /** The time those uploads' age is measured at (default Date.now). */
      clock?: () => number;
      /** Where a failed sweep is reported (it is retried at the next interval). */
      onError?: (err: unknown) => void;
    },
  ) {}

  /** Starts sweeping (the first sweep runs right away). Idempotent. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops sweeping and waits for a sweep in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.current = this.round().finally(() => {
        this.current = null;
        this.schedule(this.o.intervalMs);
      });
    }, delay);
    this.timer.unref();
  }

  /** One round: a sweep if this node leads, else nothing. Never rejects. */
  private async round(): Promise<void> {
    if (!(await this.o.coordinator.isLeader().catch(() => false))) {
      this.stats.standby++;
      return;
    }
    try {
      await this.o.retention.sweep();
      await this.o.blobs?.sweepAbandoned?.((this.o.clock ?? Date.now)());
    } catch (err) {
      this.stats.failures++;
      this.o.onError?.(err);
    } finally {
      this.stats.runs++;
    }
  }
}
