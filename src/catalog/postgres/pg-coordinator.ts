import pg from 'pg';
import type { Coordinator } from '../../core/coordinator.js';

/** Advisory lock key of the leader ("cairn-ld" in ASCII). */
const LEADER_LOCK = '7161120822691458148';

/**
 * {@link Coordinator} over PostgreSQL: the leader is the node whose own connection holds the
 * session-level advisory lock {@link LEADER_LOCK}. PostgreSQL frees the lock when that
 * connection dies (kill -9, network loss), and a standby takes it at its next `isLeader()`.
 */
export class PgCoordinator implements Coordinator {
  private client: pg.Client | null = null;
  private holding = false;
  private closed = false;

  constructor(private readonly url: string) {}

  private asking: Promise<boolean> | null = null;

  async isLeader(): Promise<boolean> {
    // One question at a time: two overlapping calls must not open two connections.
    this.asking ??= this.ask().finally(() => (this.asking = null));
    return this.asking;
  }

  private async ask(): Promise<boolean> {
    if (this.closed) return false;
    try {
      if (this.client && this.holding) {
        // Still alive? A dead connection no longer holds the lock.
        await this.client.query('SELECT 1');
        return true;
      }
      if (!this.client) this.client = await this.connect();
      const r = await this.client.query<{ got: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS got',
        [LEADER_LOCK],
      );
      this.holding = r.rows[0]?.got === true;
      return this.holding && !this.closed;
    } catch {
      await this.drop();
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drop();
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 5000,
      application_name: 'cairn-coordinator',
    });
    // A lost connection: forget it; the next isLeader() opens a fresh one.
    client.on('error', () => {
      if (this.client === client) {
        this.client = null;
        this.holding = false;
      }
    });
    await client.connect();
    if (this.closed) {
      await client.end().catch(() => undefined);
      throw new Error('closed');
    }
    return client;
  }

  private async drop(): Promise<void> {
    const c = this.client;
    this.client = null;
    this.holding = false;
    // Ending the connection releases the lock at once.
    if (c) await c.end().catch(() => undefined);
  }
}
