/** How {@link PendingCleanups} gives a lease back and collects bytes (see blob-leases). */
export interface CleanupOps {
  releaseLease(leaseId: string): Promise<void>;
  /** Collects a blob's bytes if nothing references or leases them; throws if it cannot write. */
  collect(sha256: string): Promise<boolean>;
}

/**
 * Undoing a failed push: its lease given back, and bytes only it brought collected. A full
 * disk refuses the very writes that undo a push, so what fails is remembered and retried after
 * the next push that succeeds (space is back by then), instead of leaving unreferenced bytes
 * until an fsck --repair. Retries are per process: a crash meanwhile leaves them to start-up
 * recovery, the lease's expiry and fsck, as any crash does.
 */
export class PendingCleanups {
  private readonly leases = new Set<string>();
  private readonly blobs = new Set<string>();
  private running: Promise<void> | null = null;

  constructor(private readonly ops: CleanupOps) {}

  /** Gives `leaseId` back and collects `sha256s`; what cannot be done now is kept. Never throws. */
  async undo(leaseId: string, sha256s: string[]): Promise<void> {
    try {
      await this.ops.releaseLease(leaseId);
    } catch {
      // Still leased by this push: the bytes cannot be collected before the lease goes.
      this.leases.add(leaseId);
      for (const sha of sha256s) this.blobs.add(sha);
      return;
    }
    for (const sha of sha256s) {
      try {
        await this.ops.collect(sha);
      } catch {
        this.blobs.add(sha);
      }
    }
  }

  /** Number of leases and blobs waiting for a retry. */
  get size(): number {
    return this.leases.size + this.blobs.size;
  }

  /** Retries what is pending (one run at a time); what still fails stays. Never throws. */
  retry(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return (this.running ??= this.runOnce().finally(() => (this.running = null)));
  }

  private async runOnce(): Promise<void> {
    for (const id of [...this.leases]) {
      try {
        await this.ops.releaseLease(id);
        this.leases.delete(id);
      } catch {
        return;
      }
    }
    for (const sha of [...this.blobs]) {
      try {
        await this.ops.collect(sha);
        this.blobs.delete(sha);
      } catch {
        return;
      }
    }
  }
}
