import type Database from 'better-sqlite3';
import type { EventCatalog, EventPage, EventTrim } from '../event-catalog.js';
import { toEvent, type EventRow } from './event-rows.js';
import type { WriteBatcher } from './write-batcher.js';

/** How often the file is polled for events other processes appended. */
const POLL_MS = 250;

/**
 * {@link EventCatalog} over the SQLite catalog's `events` table (rows appended by the writes
 * themselves, see appendEvent). One writer at a time per file makes AUTOINCREMENT ids commit
 * order, so reading by id never skips a late commit. The doorbell rings after this instance's
 * commits that appended events and, while anyone watches, when a poll of the newest id every
 * {@link POLL_MS} ms sees another process's.
 */
export class SqliteEvents implements EventCatalog {
  private readonly watchers = new Set<() => void>();
  private poll: NodeJS.Timeout | null = null;
  /** The newest id the doorbell has rung for. */
  private rung = 0;
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {
    this.s = {
      after: db.prepare<[number, number], EventRow>(
        'SELECT id, type, session, data, at FROM events WHERE id > ? ORDER BY id LIMIT ?',
      ),
      trimmed: db.prepare<[], { through: number }>('SELECT through FROM events_trimmed'),
      // The AUTOINCREMENT counter: the newest id ever given, even once trimmed.
      newest: db.prepare<[], { seq: number }>(
        "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
      ),
    };
  }

  async readAfter(cursor: number, limit: number): Promise<EventPage> {
    // Both reads on one connection with no await between: no trim can come in between.
    const through = this.s.trimmed.get()?.through ?? 0;
    const from = Math.max(cursor, through);
    const events = this.s.after.all(from, limit).map(toEvent);
    return { events, gap: cursor < through };
  }

  async tail(): Promise<number> {
    return this.newest();
  }

  async oldest(): Promise<number> {
    return this.s.trimmed.get()?.through ?? 0;
  }

  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    if (!this.poll) {
      this.rung = this.newest();
      this.poll = setInterval(() => this.ringIfNew(), POLL_MS);
      this.poll.unref();
    }
    return () => {
      this.watchers.delete(fn);
      if (this.watchers.size > 0 || !this.poll) return;
      clearInterval(this.poll);
      this.poll = null;
    };
  }

  /** Called by the catalog after each of its commits. */
  noteCommit(): void {
    if (this.watchers.size > 0) this.ringIfNew();
  }

  async trim(o: EventTrim): Promise<number> {
    return this.batch.run(() => {
      const newest = this.newest();
      // Ids follow time: everything before the first event young enough to stay is old (a
      // scan of only the events due to go, as the table starts at the last trim).
      const young = this.db
        .prepare<[number], { id: number }>(
          'SELECT id FROM events WHERE at >= ? ORDER BY id LIMIT 1',
        )
        .get(o.before)?.id;
      const byAge = young === undefined ? newest : young - 1;
      const through = Math.max(byAge, newest - Math.max(0, o.keep));
      if (through <= (this.s.trimmed.get()?.through ?? 0)) return 0;
      const gone = this.db.prepare('DELETE FROM events WHERE id <= ?').run(through).changes;
      this.db.prepare('UPDATE events_trimmed SET through = ?').run(through);
      return gone;
    });
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

  private ringIfNew(): void {
    if (!this.db.open) return;
    const newest = this.newest();
    if (newest === this.rung) return;
    this.rung = newest;
    for (const fn of [...this.watchers]) fn();
  }
}
