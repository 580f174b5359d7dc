import pg from 'pg';

/** The slow poll that stands in for a NOTIFY lost with its connection. */
const POLL_MS = 1000;
/** Pauses before reconnecting a lost LISTEN connection, doubling up to the last. */
const RECONNECT_MS = [100, 250, 500, 1000, 2000, 5000];

/**
 * The doorbell of the PostgreSQL event stream: a dedicated connection LISTENing to
 * `cairn_events` (every insert into `events` sends a NOTIFY, which PostgreSQL delivers when the
 * writing transaction commits, to every node), plus a slow poll in case a notification was
 * lost. A dropped connection is reopened (with a growing pause) and rings once it is back, so
 * the reader replays from its cursor whatever it missed while deaf. `ring` may be called
 * spuriously; it carries nothing.
 */
export class PgEventDoorbell {
  private client: pg.Client | null = null;
  private poll: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly ring: () => void,
  ) {}

  /** Starts listening (and polling); resolves once the first LISTEN is in place or failed. */
  async start(): Promise<void> {
    this.poll = setInterval(() => this.ring(), POLL_MS);
    this.poll.unref();
    await this.listen();
  }

  /** Ends the connection and the timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.retry) clearTimeout(this.retry);
    this.poll = this.retry = null;
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      application_name: 'cairn-events',
    });
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      client.end().catch(() => undefined);
      this.reconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.ring());
    try {
      await client.connect();
      await client.query('LISTEN cairn_events');
    } catch {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      return this.reconnect();
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    // Whatever was appended while no connection listened: the reader reads it now.
    this.ring();
  }

  private reconnect(): void {
    if (this.stopped || this.retry) return;
    const pause = RECONNECT_MS[Math.min(this.failures++, RECONNECT_MS.length - 1)];
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.listen();
    }, pause);
    this.retry.unref();
  }
}
