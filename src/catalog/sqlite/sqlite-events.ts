import type Database from 'better-sqlite3';
import type { EventCatalog, EventPage, EventTrim } from '../event-catalog.js';
import { toEvent, type EventRow } from './event-rows.js';
import type { WriteBatcher } from './write-batcher.js';

/** How often the file is polled for events other processes appended. */
const POLL_MS = 250;
/** Most events one trim transaction deletes (ids are dense: one writer, no holes). */
const TRIM_BATCH = 10_000;

/**
 * {@link EventCatalog} over the SQLite catalog's `events` table (rows appended by the writes
 * themselves, see appendEvent). One writer at a time per file makes AUTOINCREMENT ids commit
 * order, so reading by id never skips a late commit. Under `full` durability reads stop at
 * the newest id known to be on disk (a client never sees an event a power loss could take
 * back, and whose id would then be given again). The doorbell rings when more becomes
 * readable: after this instance's commits (or their WAL sync) and, while anyone watches, when
 * a poll every {@link POLL_MS} ms sees another process's (synced first, under `full`).
 */
export class SqliteEvents implements EventCatalog {
  private readonly watchers = new Set<() => void>();
  private poll: NodeJS.Timeout | null = null;
  /** The newest readable id the doorbell has rung for. */
  private rung = 0;
  /** Under `full` durability, the newest id known to be on disk; null: no limit (`process`). */
  private durable: number | null;
  /** A WAL sync the poll started for other processes' events is running. */
  private polledSync = false;
  private readonly s;

  /** @param sync makes every commit so far durable (the WAL fsync); absent under `process`. */
  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
    private readonly sync?: () => Promise<void>,
  ) {
    this.s = {
      after: db.prepare<[number, number, number], EventRow>(
        'SELECT id, type, session, data, at FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?',
      ),
      trimmed: db.prepare<[], { through: number }>('SELECT through FROM events_trimmed'),
      // The AUTOINCREMENT counter: the newest id ever given, even once trimmed.
      newest: db.prepare<[], { seq: number }>(
        "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
      ),
    };
    // The WAL is synced when the catalog opens.
    this.durable = sync ? this.newest() : null;
  }

  async readAfter(cursor: number, limit: number): Promise<EventPage> {
    // All reads on one connection with no await between: no trim can come in between.
    const through = this.s.trimmed.get()?.through ?? 0;
    const from = Math.max(cursor, through);
    const events = this.s.after.all(from, this.readable(), limit).map(toEvent);
    return { events, gap: cursor < through };
  }

  async tail(): Promise<number> {
    return this.readable();
  }

  /**
   * Runs the write batcher's sync: the ids committed before it started are durable once it
   * resolves, and become readable.
   */
  async durably(sync: () => Promise<void>): Promise<void> {
    const mark = this.newest();
    await sync();
    if (this.durable !== null && mark > this.durable) this.durable = mark;
    this.ringIfNew();
  }

  async oldest(): Promise<number> {
    return this.s.trimmed.get()?.through ?? 0;
  }

  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    if (!this.poll) {
      this.rung = this.readable();
      this.poll = setInterval(() => this.polled(), POLL_MS);
      this.poll.unref();
    }
    return () => {
      this.watchers.delete(fn);
      if (this.watchers.size > 0 || !this.poll) return;
      clearInterval(this.poll);
      this.poll = null;
    };
  }

  /** Called by the catalog after each of its commits (under `full`, its sync rings instead). */
  noteCommit(): void {
    if (this.durable === null) this.ringIfNew();
  }

  async trim(o: EventTrim): Promise<number> {
    const through = this.trimPoint(o);
    // Checked first, outside any transaction: an idle sweep costs no commit.
    if (through <= (await this.oldest())) return 0;
    let gone = 0;
    // In bounded transactions, so a large backlog never holds the writer for long; each one
    // moves `events_trimmed` with the rows it deletes, so readers always see a true gap.
    for (;;) {
      const n = await this.batch.run(() => {
        const from = this.s.trimmed.get()?.through ?? 0;
        if (through <= from) return -1;
        const upTo = Math.min(through, from + TRIM_BATCH);
        const changes = this.db.prepare('DELETE FROM events WHERE id <= ?').run(upTo).changes;
        this.db.prepare('UPDATE events_trimmed SET through = ?').run(upTo);
        return changes;
      });
      if (n < 0) return gone;
      gone += n;
    }
  }

  /** The newest id {@link trim} removes: older than `before`, or not among the newest `keep`. */
  private trimPoint(o: EventTrim): number {
    const newest = this.newest();
    // Ids follow time: everything before the first event young enough to stay is old (a
    // scan of only the events due to go, as the table starts at the last trim).
    const young = this.db
      .prepare<[number], { id: number }>('SELECT id FROM events WHERE at >= ? ORDER BY id LIMIT 1')
      .get(o.before)?.id;
    const byAge = young === undefined ? newest : young - 1;
    return Math.max(byAge, newest - Math.max(0, o.keep));
  }

  /** Stops the poll (the catalog is closing). */
  close(): void {
    this.watchers.clear();
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  private newest(): number {
    return this.s.newest.get()?.seq ?? 0;
  }

  /** The newest id readers may see. */
  private readable(): number {
    return this.durable ?? this.newest();
  }

  /** A poll: other processes may have appended (under `full`, synced before they are read). */
  private polled(): void {
    if (!this.db.open) return;
    if (this.durable === null || !this.sync) return this.ringIfNew();
    if (this.polledSync || this.newest() <= this.durable) return;
    this.polledSync = true;
    this.durably(this.sync)
      // A failed sync is tried again at the next poll.
      .catch(() => undefined)
      .finally(() => (this.polledSync = false));
  }

  private ringIfNew(): void {
    if (!this.db.open || this.watchers.size === 0) return;
    const readable = this.readable();
    if (readable === this.rung) return;
    this.rung = readable;
    for (const fn of [...this.watchers]) fn();
  }
}
