import type pg from 'pg';
import { DUMP_KINDS } from '../../lib/dump-kinds.js';
import type {
  DumpCatalog,
  DumpKind,
  DumpPage,
  DumpReader,
  DumpRows,
  DumpWriter,
} from '../dump-catalog.js';
import { dumpKindSql, type Row } from '../dump-kind-sql.js';
import { wrap, type PgDb, type Queryable } from './pg-db.js';
import { mapPgError } from './pg-errors.js';
import { PgDumpWriter } from './pg-dump-writer.js';

const ignore = () => undefined;

const KINDS =
  dumpKindSql(`(SELECT coalesce(json_agg(parent_id ORDER BY parent_id), '[]'::json)::text
  FROM lineage l WHERE l.child_seq = a.seq)`);

/**
 * A {@link DumpReader} on one pooled connection held for its whole life, inside one
 * `REPEATABLE READ READ ONLY` transaction: every read sees the point in time of its first,
 * whatever other nodes commit meanwhile.
 */
class PgDumpReader implements DumpReader {
  private readonly q: Queryable;
  private done = false;

  private constructor(private readonly client: pg.PoolClient) {
    this.q = wrap(client);
  }

  static async open(db: PgDb): Promise<PgDumpReader> {
    const client = await db.pool.connect().catch((err: unknown) => {
      throw mapPgError(err);
    });
    // A held connection the server drops (restart, or the database dropped) fails the next
    // statement; the error event itself must not go unhandled.
    client.on('error', ignore);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // The snapshot is taken by the first statement.
      await client.query('SELECT count(*) FROM sessions');
    } catch (err) {
      client.release(true);
      throw mapPgError(err);
    }
    return new PgDumpReader(client);
  }

  async counts(): Promise<Record<DumpKind, number>> {
    const out = {} as Record<DumpKind, number>;
    for (const kind of DUMP_KINDS)
      out[kind] =
        (
          await this.mapped(() =>
            this.q.get<{ n: number }>(`SELECT count(*) AS n ${KINDS[kind].from}`),
          )
        )?.n ?? 0;
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
    const rows = await this.mapped(() =>
      this.q.all<Row>(sql, {
        limit,
        ...(keys?.[0] !== undefined && { k1: keys[0] }),
        ...(keys?.[1] !== undefined && { k2: keys[1] }),
      }),
    );
    const next = rows.length === limit ? JSON.stringify(k.key(rows[rows.length - 1])) : null;
    return { rows: rows.map((r) => k.shape(r)) as DumpRows[K][], cursor: next };
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    let broken = false;
    await this.client.query('COMMIT').catch(() => (broken = true));
    this.client.removeListener('error', ignore);
    this.client.release(broken);
  }

  private async mapped<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw mapPgError(err);
    }
  }
}

/** {@link DumpCatalog} of the PostgreSQL catalog: readers and writers on connections of their own. */
export class PgDump implements DumpCatalog {
  constructor(private readonly db: PgDb) {}

  async open(): Promise<DumpReader> {
    return PgDumpReader.open(this.db);
  }

  async restore(): Promise<DumpWriter> {
    return PgDumpWriter.open(this.db);
  }
}
