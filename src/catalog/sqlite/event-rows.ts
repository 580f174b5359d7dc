import type Database from 'better-sqlite3';
import type { CairnEvent, EventType } from '../../core/events.js';

/** An `events` row as stored. */
export interface EventRow {
  id: number;
  type: string;
  session: string;
  data: string;
  at: number;
}

const statements = new WeakMap<Database.Database, Database.Statement>();

/**
 * Appends one event inside the caller's transaction (the write that makes the change), so
 * the event commits, or rolls back, with it. `data` is what SSE clients get as the event's
 * `data`; `at` is the wall-clock time of the write.
 */
export function appendEvent(
  db: Database.Database,
  type: EventType,
  session: string,
  data: unknown,
): void {
  let insert = statements.get(db);
  if (!insert) {
    insert = db.prepare('INSERT INTO events (type, session, data, at) VALUES (?, ?, ?, ?)');
    statements.set(db, insert);
  }
  insert.run(type, session, JSON.stringify(data), Date.now());
}

/** The event a row holds, with its keys in the order clients have always got them. */
export function toEvent(r: EventRow): CairnEvent {
  return {
    id: r.id,
    type: r.type as EventType,
    session: r.session,
    data: JSON.parse(r.data) as unknown,
    at: new Date(r.at).toISOString(),
  };
}
