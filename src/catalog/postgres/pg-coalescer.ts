/** One item's answer from a {@link Coalescer}'s `exec`. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Limits of a {@link Coalescer}. */
export interface CoalescerOptions {
  /** Most items one `exec` call gets (default 256). */
  maxItems?: number;
  /** `exec` calls running at once; items arriving meanwhile wait for the next (default 4). */
  maxInFlight?: number;
}

/**
 * Group commit for PostgreSQL writes: calls that arrive while earlier ones are in flight are
 * handed to `exec` together, so one statement, one round trip and one commit (one WAL flush)
 * serve them all, as SQLite's WriteBatcher groups writes in one transaction. `exec` answers
 * each item (in order) or throws, which fails every item of its call. Items are never lost:
 * each promise settles once its call has.
 */
export class Coalescer<I, O> {
  private queue: { item: I; resolve: (v: O) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private readonly maxItems: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly exec: (items: I[]) => Promise<Settled<O>[]>,
    o: CoalescerOptions = {},
  ) {
    this.maxItems = o.maxItems ?? 256;
    this.maxInFlight = o.maxInFlight ?? 4;
  }

  /** Queues `item`; resolves or rejects with its answer once the call holding it has ended. */
  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once nothing is queued or running. */
  async drain(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0)
      await new Promise<void>((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxItems);
      this.inFlight++;
      void this.call(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          for (const r of this.idle.splice(0)) r();
        }
      });
    }
  }

  private async call(batch: typeof this.queue): Promise<void> {
    let answers: Settled<O>[];
    try {
      answers = await this.exec(batch.map((b) => b.item));
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    batch.forEach((b, i) => {
      const a = answers[i];
      if (a?.ok) b.resolve(a.value);
      else b.reject(a ? a.error : new Error('coalesced call gave no answer'));
    });
  }
}
