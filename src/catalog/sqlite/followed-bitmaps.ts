import type Database from 'better-sqlite3';
import { MetaBitmaps, type MetaBitmapsOptions } from './meta-bitmaps.js';

/** More new artifacts than this since the last look: start the bitmaps over instead. */
const MAX_CATCH_UP = 50_000;

/**
 * {@link MetaBitmaps} for a connection that does not write: the artifacts the writer inserts
 * never pass through `added` here, so before each use the bitmaps catch up from the rows
 * themselves (the metadata of every artifact above the newest seq seen last time).
 *
 * Seqs can be reused: a new artifact takes max(seq) + 1, so one that takes a seq at or below
 * the newest seen means that artifact's row was deleted first. The newest row seen is kept by
 * seq and id; if it is gone or another, or too many rows came since, the bitmaps start over
 * (empty, rebuilt from the index on demand), so a bitmap never misses an artifact holding its
 * value and the planner's answers stay exact (see MetaBitmaps).
 */
export class FollowedBitmaps {
  private bitmaps: MetaBitmaps;
  /** The newest artifact when the bitmaps last caught up (seq 0: there was none). */
  private seen = { seq: 0, id: '' };
  private readonly top;
  private readonly at;
  private readonly since;
  private readonly look;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: MetaBitmapsOptions = {},
  ) {
    this.bitmaps = new MetaBitmaps(db, opts);
    this.top = db.prepare<[], { seq: number; id: string }>(
      'SELECT seq, id FROM artifacts ORDER BY seq DESC LIMIT 1',
    );
    this.at = db.prepare<[number], { id: string }>('SELECT id FROM artifacts WHERE seq = ?');
    this.since = db.prepare<[number], { seq: number; key: string; value: string }>(
      'SELECT artifact_seq AS seq, key, value FROM artifact_meta INDEXED BY artifact_meta_owner WHERE artifact_seq > ?',
    );
    // One read transaction: the newest row and the metadata above the last one seen agree.
    this.look = db.transaction(() => this.catchUp());
  }

  /** The bitmaps, holding every artifact committed before this call. */
  current(): MetaBitmaps {
    this.look();
    return this.bitmaps;
  }

  private catchUp(): void {
    const top = this.top.get() ?? { seq: 0, id: '' };
    const seen = this.seen;
    this.seen = top;
    if (this.bitmaps.size === 0) return;
    const same = seen.seq === 0 || this.at.get(seen.seq)?.id === seen.id;
    if (!same || top.seq < seen.seq || top.seq - seen.seq > MAX_CATCH_UP) {
      this.bitmaps = new MetaBitmaps(this.db, this.opts);
      return;
    }
    for (const r of this.since.iterate(seen.seq)) this.bitmaps.added(r.seq, { [r.key]: r.value });
  }
}
