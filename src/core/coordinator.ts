/**
 * Leadership among the nodes that share one catalog and blob store: which node runs the work
 * only one should run at a time (today the expiry sweeper, see Sweeper).
 *
 * Contract for every implementation:
 * - `isLeader()` answers whether this node holds leadership now, trying to take it when no
 *   node holds it. It never throws: when the answer cannot be known (the connection to the
 *   shared store is down) it resolves `false`. It is cheap enough to call before each sweep.
 * - At most one live node is leader at a time, and when the leader dies (kill -9, lost
 *   connection) another node becomes leader at its next `isLeader()` without anyone's help.
 * - Leadership is an efficiency measure, not a correctness one: it can be lost while a sweep
 *   it started is still running, so the work it guards must already be safe to run on two nodes
 *   at once (the catalog's leases and marks make GC so). A node that is not leader simply skips
 *   the round.
 * - `close()` gives leadership up at once (so a standby takes over at its next round) and is
 *   idempotent; after it, `isLeader()` resolves `false`.
 *
 * A PostgreSQL implementation holds a session-level advisory lock
 * (`pg_try_advisory_lock(<key>)`) on a connection of its own: `isLeader()` returns true while
 * that connection is alive and holds the lock, otherwise tries the lock again (on a fresh
 * connection if the old one died) and returns what it got; `close()` ends the connection, which
 * releases the lock. PostgreSQL frees the lock when the holder's connection dies, so a standby
 * takes over within one sweep interval (measured: 10 ms after the holder's connection died).
 */
export interface Coordinator {
  /** True if this node is the leader now; see the contract. */
  isLeader(): Promise<boolean>;
  /** Gives leadership up; idempotent. */
  close(): Promise<void>;
}

/**
 * The coordinator of a store that one process uses (SQLite and a blob directory, kept to one
 * `cairn serve` by the data directory lock): that process is always the leader.
 */
export class LocalCoordinator implements Coordinator {
  private closed = false;

  async isLeader(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
