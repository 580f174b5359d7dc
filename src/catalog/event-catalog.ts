import type { CairnEvent, EventType } from '../core/events.js';

export type { CairnEvent, EventType };

/** One page of the event stream (see {@link EventCatalog.readAfter}). */
export interface EventPage {
  /** Events after the cursor, in stream order (increasing `id`). */
  events: CairnEvent[];
  /**
   * True when events after the cursor were trimmed before this read: `events` then starts at
   * the oldest event still held, and the reader has missed some (SSE says `event: gap`).
   */
  gap: boolean;
}

/** How much of the stream {@link EventCatalog.trim} keeps. */
export interface EventTrim {
  /** Events written before this time (epoch ms) go... */
  before: number;
  /** ...and so do all but the newest `keep` events, whatever their age. */
  keep: number;
}

/**
 * The event stream: one row per change (`artifact.created`, `artifact.deleted`,
 * `session.sealed`, `session.expired`, `session.deleted`), written by the catalog write that
 * makes the change, in the SAME transaction, so an event exists exactly when its change
 * committed (a rolled-back write leaves none) and every process or node sharing the catalog
 * reads the same stream. Which writes append which events, and their data, is part of the
 * contract of those writes (see Catalog, RetentionCatalog, ImportCatalog).
 *
 * Cursors: an event's `id` is its position in the stream, a positive safe integer (a JSON
 * number, sent as the SSE `id:` and kept in the event's JSON); a cursor is the id of the last
 * event a reader has, 0 for "before everything". Ids are durable: they survive restarts and
 * are never given twice by one store.
 *
 * The rule every implementation must keep: once {@link readAfter} has returned an event with
 * id N, no event with an id ≤ N may become readable later. A reader that advanced its cursor
 * to N can then never skip an event that committed late with an earlier position.
 * - SQLite: one writer at a time per file, so ids (AUTOINCREMENT rowids) are taken in commit
 *   order, and a read sees only committed rows: the rule holds as is.
 * - PostgreSQL: sequence values are taken at insert, not at commit, so a transaction with
 *   id 5 may commit after one with id 6. So rows get their stream `id` when a reader sees
 *   them committed, not when they are inserted: a reader, under a transaction-scoped advisory
 *   lock, numbers the committed rows that have none yet, after the newest id given, then
 *   reads by that number. A late commit gets a later id, never one already passed. (Taking an
 *   advisory lock in every writing transaction before its insert would also keep the rule, at
 *   the cost of serializing writers' commits.)
 *
 * Every method is safe to call concurrently, from any number of instances over one store.
 */
export interface EventCatalog {
  /**
   * At most `limit` events with id > `cursor`, oldest first (see the rule above). When the
   * events right after `cursor` were trimmed, the page starts at the oldest one held and says
   * `gap`; a cursor at or past the {@link tail} gets an empty page without a gap.
   */
  readAfter(cursor: number, limit: number): Promise<EventPage>;
  /**
   * A cursor for "only future events": the id of the newest readable event (or, when none
   * is held, of the newest ever trimmed; 0 for an empty stream). Every id up to it is
   * readable now; nothing readable later is ≤ it.
   */
  tail(): Promise<number>;
  /** A cursor from which {@link readAfter} returns every event still held, without a gap. */
  oldest(): Promise<number>;
  /**
   * Calls `fn` (maybe spuriously, maybe once for many events) whenever events may have been
   * appended, by this instance or by another process sharing the store; returns the function
   * that stops it. A watcher reads with {@link readAfter} from its own cursor: the doorbell
   * carries no events. SQLite rings after this instance's commits and polls the file for
   * other processes' (every ~250 ms); PostgreSQL would LISTEN to a NOTIFY sent by each
   * writing transaction (delivered at commit).
   */
  watch(fn: () => void): () => void;
  /**
   * Deletes the events older than `before` and all but the newest `keep`, so the stream
   * stays bounded (the sweeper calls it); returns how many went. A reader whose cursor falls
   * behind what is trimmed gets a page with `gap` set.
   */
  trim(o: EventTrim): Promise<number>;
}
