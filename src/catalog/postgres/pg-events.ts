import type { EventCatalog, EventPage, EventTrim } from '../event-catalog.js';
import { toEvent, type EventRow } from '../sqlite/event-rows.js';
import { PgEventDoorbell } from './pg-event-doorbell.js';
import type { PgDb } from './pg-db.js';

/** Most events one trim transaction deletes (positions are dense). */
const TRIM_BATCH = 10_000;

/**
 * {@link EventCatalog} over the PostgreSQL `events` table (rows appended by the writes
 * themselves, see appendEvents).
 *
 * Why positions are given by readers, not writers. A sequence value is taken at insert, not at
 * commit, so a row numbered 5 may commit after one numbered 6 was read: a reader at 6 would
 * skip it. Writers taking the number from a counter row as their last statement would make
 * every event-writing commit wait for the one before (and, under SERIALIZABLE, rerun every
 * concurrent push). So a row is inserted without a position, and gets one only once it has
 * committed: readers call cairn_events_promote (migration 3), which, under a transaction
 * advisory lock, numbers every committed row still without one, in (xid, seq) order, after the
 * newest position given. Positions are handed out by one promoter at a time and only grow, so
 * a row that commits late gets a later position, never one a reader has already passed.
 * Readers read by `pos` only, and the cursor stays one number. Writers pay one insert and
 * never wait on each other; readers pay the promotion (a cheap indexed check when there is
 * nothing to number).
 *
 * Doorbell: NOTIFY from every insert, delivered at commit, heard on a dedicated LISTEN
 * connection (PgEventDoorbell, with a slow poll as fallback); on each ring this numbers what
 * committed and rings its watchers if the head moved.
 */
export class PgEvents implements EventCatalog {
  private readonly watchers = new Set<() => void>();
  private doorbell: PgEventDoorbell | null = null;
  /** The head the watchers were last rung for. */
  private rung = -1;
  private checking = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly db: PgDb,
    private readonly url: string,
  ) {}

  async readAfter(cursor: number, limit: number): Promise<EventPage> {
    await this.promote();
    // One statement: the trim point and the rows come from one snapshot.
    const rows = await this.db.all<{ through: number } & Partial<EventRow>>(
      `SELECT t.through, e.pos AS id, e.type, e.session, e.data, e.at FROM events_trimmed t
       LEFT JOIN LATERAL (SELECT pos, type, session, data, at FROM events
         WHERE pos > greatest($1::bigint, t.through) ORDER BY pos LIMIT $2) e ON true`,
      [Math.max(0, Math.floor(cursor)), limit],
    );
    const through = rows[0]?.through ?? 0;
    const events = rows.filter((r) => r.id != null).map((r) => toEvent(r as EventRow));
    return { events, gap: cursor < through };
  }

  async tail(): Promise<number> {
    await this.promote();
    return this.head();
  }

  async oldest(): Promise<number> {
    const row = await this.db.get<{ through: number }>('SELECT through FROM events_trimmed');
    return row?.through ?? 0;
  }

  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    if (!this.doorbell && !this.closed) {
      this.doorbell = new PgEventDoorbell(this.url, () => this.check());
      void this.doorbell.start();
    }
    return () => {
      this.watchers.delete(fn);
      if (this.watchers.size > 0 || !this.doorbell) return;
      void this.doorbell.stop();
      this.doorbell = null;
    };
  }

  async trim(o: EventTrim): Promise<number> {
    const through = await this.trimPoint(o);
    // Checked first, outside any transaction: an idle sweep costs no commit.
    if (through <= (await this.oldest())) return 0;
    let gone = 0;
    // Bounded transactions; each moves `events_trimmed` with the rows it deletes, so readers
    // always see a true gap. Rows not numbered yet are never trimmed.
    for (;;) {
      const n = await this.db.tx(async (t) => {
        const from = (await t.get<{ through: number }>('SELECT through FROM events_trimmed'))!
          .through;
        if (through <= from) return -1;
        const upTo = Math.min(through, from + TRIM_BATCH);
        const deleted = await t.run('DELETE FROM events WHERE pos <= $1', [upTo]);
        await t.run('UPDATE events_trimmed SET through = $1', [upTo]);
        return deleted;
      });
      if (n < 0) return gone;
      gone += n;
    }
  }

  /** Stops the doorbell (the catalog is closing). */
  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    const bell = this.doorbell;
    this.doorbell = null;
    await bell?.stop();
  }

  /** The newest position ever given (rows up to it are readable, or trimmed). */
  private async head(): Promise<number> {
    return (await this.db.get<{ pos: number }>('SELECT pos FROM events_head'))?.pos ?? 0;
  }

  /** Numbers the rows that committed since the last promotion. */
  private async promote(): Promise<void> {
    await this.db.get('SELECT cairn_events_promote()');
  }

  /** The newest position {@link trim} removes: older than `before`, or not among the newest `keep`. */
  private async trimPoint(o: EventTrim): Promise<number> {
    const newest = await this.head();
    // Positions follow time closely: everything before the first young event goes.
    const young = await this.db.get<{ pos: number }>(
      'SELECT pos FROM events WHERE pos IS NOT NULL AND at >= $1 ORDER BY pos LIMIT 1',
      [o.before],
    );
    const byAge = young === undefined ? newest : young.pos - 1;
    return Math.max(byAge, newest - Math.max(0, o.keep));
  }

  /** A ring of the doorbell: number what committed, ring the watchers if the head moved. */
  private check(): void {
    if (this.closed || this.watchers.size === 0) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    this.again = false;
    void (async () => {
      try {
        await this.promote();
        const head = await this.head();
        if (head !== this.rung) {
          this.rung = head;
          for (const fn of [...this.watchers]) fn();
        }
      } catch {
        // The catalog is down: the poll rings again.
      } finally {
        this.checking = false;
      }
      if (this.again) this.check();
    })();
  }
}
