import type { EventCatalog, EventPage, EventTrim } from '../event-catalog.js';
import { toEvent, type EventRow } from '../sqlite/event-rows.js';
import { PgEventDoorbell } from './pg-event-doorbell.js';
import type { PgDb } from './pg-db.js';

/** Most events one trim transaction deletes (positions are dense). */
const TRIM_BATCH = 10_000;
/** First pause before looking again at rows committed above the horizon; doubles up to MAX. */
const WAITING_MS = 10;
const WAITING_MAX_MS = 500;

/**
 * {@link EventCatalog} over the PostgreSQL `events` table (rows appended by the writes
 * themselves, see appendEvents).
 *
 * Why positions are given by readers, not writers. A sequence value is taken at insert, not at
 * commit, so a row numbered 5 may commit after one numbered 6 was read: a reader at 6 would
 * skip it. Two ways keep the rule of EventCatalog. (a) Writers take the number from a counter
 * row as their last statement: every event-writing commit then waits for the one before, and
 * under SERIALIZABLE two concurrent updates of one row are a serialization failure, so every
 * concurrent push would be rerun. (b) What this does: a row records its writer's transaction
 * id (`pg_current_xact_id()`), and gets its position `pos` only once its transaction id is
 * below the horizon `pg_snapshot_xmin(pg_current_snapshot())`, when every transaction that
 * could still commit a row before it has ended (cairn_events_promote, in migration 2: under a
 * transaction advisory lock, so positions are handed out one promotion at a time, dense, in
 * (xid, seq) order). Readers read by `pos` only, and the cursor stays one number. Writers pay
 * one insert and never wait on each other; readers pay the promotion (a cheap indexed check
 * when there is nothing to number). A transaction left open anywhere in the cluster holds the
 * horizon, and so delays (never loses) the events committed after it began.
 *
 * Doorbell: NOTIFY from every insert, heard on a dedicated LISTEN connection (PgEventDoorbell,
 * with a slow poll as fallback); on each ring this numbers what passed the horizon and rings
 * its watchers if the head moved; rows committed but still above the horizon are looked at
 * again shortly (no NOTIFY comes when the transaction holding the horizon back writes none).
 */
export class PgEvents implements EventCatalog {
  private readonly watchers = new Set<() => void>();
  private doorbell: PgEventDoorbell | null = null;
  /** The head the watchers were last rung for. */
  private rung = -1;
  private checking = false;
  private again = false;
  private waitingMs = WAITING_MS;
  private recheck: NodeJS.Timeout | null = null;
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
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = null;
    const bell = this.doorbell;
    this.doorbell = null;
    await bell?.stop();
  }

  /** The newest position ever given (rows up to it are readable, or trimmed). */
  private async head(): Promise<number> {
    return (await this.db.get<{ pos: number }>('SELECT pos FROM events_head'))?.pos ?? 0;
  }

  /** Numbers the rows that passed the horizon; returns how many still wait. */
  private async promote(): Promise<number> {
    const row = await this.db.get<{ waiting: number }>('SELECT cairn_events_promote() AS waiting');
    return row?.waiting ?? 0;
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

  /** A ring of the doorbell: number what passed the horizon, ring the watchers if it moved. */
  private check(): void {
    if (this.closed || this.watchers.size === 0) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    this.again = false;
    void (async () => {
      let waiting = 0;
      try {
        waiting = await this.promote();
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
      if (this.again) return this.check();
      if (waiting > 0 && !this.recheck && !this.closed) {
        this.recheck = setTimeout(() => {
          this.recheck = null;
          this.check();
        }, this.waitingMs);
        this.recheck.unref();
        this.waitingMs = Math.min(WAITING_MAX_MS, this.waitingMs * 2);
      } else if (waiting === 0) this.waitingMs = WAITING_MS;
    })();
  }
}
