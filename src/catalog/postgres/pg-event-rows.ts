import type { EventType } from '../../core/events.js';
import { prepared, type Queryable } from './pg-db.js';

/** One event a write appends (see {@link appendEvents}). */
export interface NewEvent {
  type: EventType;
  session: string;
  data: unknown;
}

/**
 * Appends events, in order, inside the caller's transaction (the write that makes the change),
 * so they commit, or roll back, with it: one statement whatever their number. Each row takes
 * its writer's transaction id by default (the `events.xid` column) and gets its stream
 * position later, once no earlier transaction can still commit (see PgEvents); the insert
 * rings every node's doorbell at commit (the table's NOTIFY trigger).
 */
export async function appendEvents(t: Queryable, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await t.run(
    prepared(`INSERT INTO events (type, session, data, at)
     SELECT e.type, e.session, e.data, $4
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(type, session, data, n)
     ORDER BY e.n`),
    [
      events.map((e) => e.type),
      events.map((e) => e.session),
      events.map((e) => JSON.stringify(e.data)),
      Date.now(),
    ],
  );
}
