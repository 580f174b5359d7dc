import { DUMP_KINDS } from '../../lib/dump-kinds.js';
import Database from 'better-sqlite3';
import { type DumpKind, type DumpPage, type DumpReader, type DumpRows } from '../dump-catalog.js';
import { dumpKindSql, type Row } from '../dump-kind-sql.js';

const KINDS = dumpKindSql(`(SELECT json_group_array(parent_id) FROM
  (SELECT parent_id FROM lineage l WHERE l.child_seq = a.seq ORDER BY parent_id))`);

/**
 * A {@link DumpReader} over its own read-only connection to the catalog file, inside one read
 * transaction: in WAL mode that transaction sees one point in time however long it stays open
 * and whatever the server's connection commits meanwhile (checkpoints stop short of the frames
 * it may still read, then catch up once it ends).
 */
export class SqliteDumpReader implements DumpReader {
  private constructor(private readonly db: Database.Database) {}

  /** Opens `file` and starts the snapshot (the first read fixes its point in time). */
  static open(file: string, nativeBinding?: unknown): SqliteDumpReader {
    const db = new Database(file, {
      readonly: true,
      nativeBinding: nativeBinding as string | undefined,
    });
    try {
      db.pragma('busy_timeout = 5000');
      db.exec('BEGIN');
      db.prepare('SELECT count(*) FROM sessions').get();
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteDumpReader(db);
  }

  async counts(): Promise<Record<DumpKind, number>> {
    const out = {} as Record<DumpKind, number>;
    for (const kind of DUMP_KINDS)
      out[kind] = (
        this.db.prepare(`SELECT count(*) AS n ${KINDS[kind].from}`).get() as { n: number }
      ).n;
    return out;
  }

  async readAll<K extends DumpKind>(
    kind: K,
    cursor: string | null,
    limit: number,
  ): Promise<DumpPage<K>> {
    const k = KINDS[kind];
    const keys = cursor === null ? null : (JSON.parse(cursor) as unknown[]);
    const sql = `SELECT ${k.columns} ${k.from} ${keys ? `AND ${k.after}` : ''}
      ORDER BY ${k.order} LIMIT @limit`;
    const rows = this.db.prepare(sql).all({
      limit,
      ...(keys?.[0] !== undefined && { k1: keys[0] }),
      ...(keys?.[1] !== undefined && { k2: keys[1] }),
    }) as Row[];
    const next = rows.length === limit ? JSON.stringify(k.key(rows[rows.length - 1])) : null;
    return { rows: rows.map((r) => k.shape(r)) as DumpRows[K][], cursor: next };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.db.exec('COMMIT');
    this.db.close();
  }
}
