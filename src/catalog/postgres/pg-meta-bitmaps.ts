import { SeqBitmap } from '../seq-bitmap.js';
import type { Queryable } from './pg-db.js';
import { pgText } from './pg-glob.js';

/** More new artifacts or events than this since the last look: start the bitmaps over. */
export const MAX_CATCH_UP = 50_000;

/**
 * Where a bitmap's contents reach, read in one snapshot S: `through` is the newest event
 * position visible in S (events_head), `top` the highest artifact seq visible in S.
 */
interface Mark {
  through: number;
  top: number;
}

interface Held {
  map: SeqBitmap;
  mark: Mark;
}

/** Options for {@link PgMetaBitmaps}. */
export interface PgMetaBitmapsOptions {
  /** Most bytes of bitmaps kept; the least recently used go first (default 32 MiB). */
  maxBytes?: number;
  /** New artifacts or events past which the bitmaps start over (default {@link MAX_CATCH_UP}). */
  maxCatchUp?: number;
}

/**
 * In-memory bitmaps of the artifacts holding one metadata value, for one PostgreSQL catalog
 * instance (one node), which the query planner ANDs word by word instead of reading two long
 * posting lists of the GIN index (see pg-artifact-query.ts). As SQLite's MetaBitmaps: built
 * the second time a value is asked for, a superset of the truth (deleted and expired artifacts
 * keep their bits), every candidate rechecked in SQL, so the answers stay exact.
 *
 * Other nodes write too, and seqs come from a sequence, so "rows above the newest seq seen"
 * misses a row whose lower seq commits late. What keeps a bitmap a superset is the event
 * stream's contract (migration 3, PgEvents): every insert of an artifact through the catalog
 * (push, batch push, import) writes an `artifact.created` row in its own transaction; a row
 * gets its position only after it committed, from one promoter at a time, after the newest
 * position given, so positions only grow. Hence, for a bitmap built (or caught up) in snapshot
 * S, with `through` = the head visible in S: every artifact committed after S has its event
 * either at a position above `through` or not numbered yet, and {@link catchUp} reads exactly
 * those (two index ranges) in one statement, joined to the artifacts still there.
 *
 * Inserts that write no event (a dump restore, which `cairn migrate` also writes through) are
 * caught by counting: the artifacts with seq above `top` (the highest seq visible in S) were
 * all committed after S, so their number equals the event rows' artifacts above `top` unless
 * one came without an event; then, as when events were trimmed past `through` or too many came
 * since, every bitmap is dropped and rebuilt on demand. (A restore only writes into an empty
 * catalog, so its rows cannot take seqs below rows already seen.) Deletes need nothing.
 *
 * Safe for concurrent queries of one node: each bitmap keeps the mark of the snapshot it
 * covers; a catch-up raises only the marks it started from, so a bitmap built meanwhile in an
 * older snapshot is never taken as caught up.
 */
export class PgMetaBitmaps {
  private readonly maps = new Map<string, Held>();
  /** Values asked for once and not built yet. */
  private readonly asked = new Set<string>();
  private bytes = 0;
  /** Bitmaps built, and times all were dropped (for tests and metrics). */
  readonly counts = { built: 0, dropped: 0 };

  constructor(private readonly o: PgMetaBitmapsOptions = {}) {}

  /**
   * Adds to every bitmap the artifacts committed since the oldest mark held, in one statement
   * on `t` (its snapshot C); returns the bitmaps that now hold every artifact committed before
   * C (all of them but one built meanwhile in an older snapshot), or drops them all (see the
   * class). Call before {@link get}, in the same transaction.
   */
  async catchUp(t: Queryable): Promise<Set<SeqBitmap>> {
    const fresh = new Set<SeqBitmap>();
    if (this.maps.size === 0) return fresh;
    const start = this.oldest();
    const cap = this.o.maxCatchUp ?? MAX_CATCH_UP;
    const rows = await t.all<CatchUpRow>(CATCH_UP, { ...start, cap: cap + 1 });
    const h = rows[0];
    const added = rows.filter((r) => r.seq !== null) as (CatchUpRow & { seq: number })[];
    const above = new Set(added.filter((r) => r.seq > start.top).map((r) => r.seq)).size;
    if (h.trimmed > start.through || h.events > cap || h.fresh > cap || h.fresh !== above) {
      this.clear();
      this.counts.dropped++;
      return fresh;
    }
    for (const r of added) this.added(r.seq, JSON.parse(r.meta) as Record<string, string>);
    const mark = { through: h.head, top: h.top };
    for (const held of this.maps.values()) {
      if (!covers(held.mark, start)) continue;
      held.mark = {
        through: Math.max(held.mark.through, mark.through),
        top: Math.max(held.mark.top, mark.top),
      };
      fresh.add(held.map);
    }
    return fresh;
  }

  /**
   * The bitmap of artifacts holding `key` = `value`, if held and in `fresh` (what
   * {@link catchUp} returned). One not held is built in one statement on `t` the second time it
   * is asked for (a one-off query keeps the GIN index: building reads the whole posting list);
   * until then, or if it is held but not fresh, this returns null.
   */
  async get(
    t: Queryable,
    key: string,
    value: string,
    fresh: Set<SeqBitmap>,
  ): Promise<SeqBitmap | null> {
    const id = `${key}\u0000${value}`;
    const held = this.maps.get(id);
    if (held) {
      this.maps.delete(id);
      this.maps.set(id, held);
      return fresh.has(held.map) ? held.map : null;
    }
    if (!this.asked.has(id)) {
      if (this.asked.size >= 10_000) this.asked.clear();
      this.asked.add(id);
      return null;
    }
    this.asked.delete(id);
    const row = (await t.get<BuildRow>(BUILD, { key, value: pgText(value) }))!;
    const map = new SeqBitmap();
    if (row.seqs) for (const s of row.seqs.split(',')) map.add(Number(s));
    // Another query may have built it meanwhile: the one just built is as good (newer).
    const before = this.maps.get(id);
    if (before) this.bytes -= before.map.bytes;
    this.maps.set(id, { map, mark: { through: row.head, top: row.top } });
    this.counts.built++;
    this.bytes += map.bytes;
    this.evict(id);
    return map;
  }

  /**
   * Whether `count` bitmaps over seqs up to `maxSeq` fit the budget together: a query whose
   * maps cannot all stay would evict one of its own on every run and rebuild it on the next.
   */
  fits(count: number, maxSeq: number): boolean {
    return count * SeqBitmap.bytesFor(maxSeq) <= this.max;
  }

  /** Bitmaps held (for tests and metrics). */
  get size(): number {
    return this.maps.size;
  }

  /** Drops every bitmap (they are rebuilt on demand). */
  clear(): void {
    this.maps.clear();
    this.bytes = 0;
  }

  private get max(): number {
    return this.o.maxBytes ?? 32 * 1024 * 1024;
  }

  /** The least advanced mark held (snapshots are ordered, so both parts are the least). */
  private oldest(): Mark {
    let m: Mark | null = null;
    for (const held of this.maps.values())
      if (
        m === null ||
        held.mark.through < m.through ||
        (held.mark.through === m.through && held.mark.top < m.top)
      )
        m = held.mark;
    return m!;
  }

  private added(seq: number, meta: Record<string, string>): void {
    for (const [k, v] of Object.entries(meta)) {
      const held = this.maps.get(`${k}\u0000${v}`);
      if (!held) continue;
      const before = held.map.bytes;
      held.map.add(seq);
      this.bytes += held.map.bytes - before;
    }
    this.evict(null);
  }

  /** Drops the least recently used bitmaps (never `keep`) until the budget holds. */
  private evict(keep: string | null): void {
    for (const [oldest, held] of this.maps) {
      if (this.bytes <= this.max) return;
      if (oldest === keep) continue;
      this.maps.delete(oldest);
      this.bytes -= held.map.bytes;
    }
  }
}

/** True if a bitmap at `mark` holds everything a catch-up starting at `start` assumed. */
function covers(mark: Mark, start: Mark): boolean {
  return mark.through >= start.through && mark.top >= start.top;
}

interface CatchUpRow {
  head: number;
  trimmed: number;
  top: number;
  fresh: number;
  events: number;
  seq: number | null;
  meta: string;
}

interface BuildRow {
  head: number;
  top: number;
  seqs: string | null;
}

/**
 * One statement, one snapshot: the head, the trim point, the highest seq, the artifacts above
 * `top` (counted up to `cap`), the events above `through` or not numbered yet (up to `cap` of
 * each; relies on the `pos` index and the partial index events_pending), and the seq and
 * metadata of the artifacts their `artifact.created` rows name that are still there.
 */
const CATCH_UP = `
  WITH e AS MATERIALIZED (
    (SELECT type, data FROM events WHERE pos > @through ORDER BY pos LIMIT @cap)
    UNION ALL
    (SELECT type, data FROM events WHERE pos IS NULL LIMIT @cap)
  )
  SELECT h.*, n.seq, n.meta FROM (
    SELECT (SELECT pos FROM events_head) AS head,
      (SELECT through FROM events_trimmed) AS trimmed,
      (SELECT coalesce(max(seq), 0) FROM artifacts) AS top,
      (SELECT count(*) FROM (SELECT 1 FROM artifacts WHERE seq > @top LIMIT @cap) f) AS fresh,
      (SELECT count(*) FROM e) AS events) h
  LEFT JOIN LATERAL (
    SELECT a.seq, a.meta FROM e JOIN artifacts a ON a.id = (e.data::json ->> 'id') COLLATE "C"
    WHERE e.type = 'artifact.created') n ON true`;

/** One statement, one snapshot: a value's owners (as one text: ~5x faster than rows), and the mark. */
const BUILD = `
  SELECT (SELECT pos FROM events_head) AS head,
    (SELECT coalesce(max(seq), 0) FROM artifacts) AS top,
    (SELECT string_agg(artifact_seq::text, ',') FROM artifact_meta
      WHERE key = @key::text AND value = @value::text) AS seqs`;
