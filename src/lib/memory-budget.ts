/**
 * A count of bytes that requests in flight may hold in memory at once (upload buffers, import
 * documents), so the server's memory is bounded by its setting rather than by its load.
 * Reservations are all-or-nothing and never wait: a caller that gets `false` refuses its
 * request (503) or makes do with what it already holds. Safe to share between requests (one
 * thread); every successful {@link MemoryBudget.tryReserve} must be matched by one
 * {@link MemoryBudget.release} of the same amount.
 */
export class MemoryBudget {
  private used = 0;

  /** @param limit bytes that may be reserved at once (Infinity: no limit) */
  constructor(readonly limit: number) {}

  /** Reserves `bytes` if they fit under the limit; false (nothing reserved) if not. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** Gives back `bytes` reserved earlier. */
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  /** Bytes reserved now. */
  get reserved(): number {
    return this.used;
  }
}

/** A budget nothing is refused from (stores used outside a server, tests of a store alone). */
export const UNLIMITED = new MemoryBudget(Infinity);

/**
 * Memory one upload buffer of the blob store takes: 1 MiB plus the 4 KiB that keeps an
 * `O_DIRECT` view aligned (see AlignedBuffers).
 */
export const UPLOAD_BUFFER_BYTES = 1024 * 1024 + 4096;
