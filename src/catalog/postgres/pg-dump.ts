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
import { mapPgError, wrap, type PgDb, type Queryable } from './pg-db.js';
import { PgDumpWriter } from './pg-dump-writer.js';

const ignore = () => undefined;

type Row = Record<string, unknown>;

/** How one kind is read (mirrors sqlite-dump-reader.ts, whose rows these must equal). */
interface KindSql {
  /** FROM … WHERE clause shared by the count and the page (no ORDER BY). */
  from: string;
  columns: string;
  /** The condition "after the cursor", on parameters @k1 (and @k2 for a two-column key). */
  after: string;
  order: string;
  key: (r: Row) => unknown[];
  shape: (r: Row) => unknown;
}

const bool = (v: unknown) => v === 1;
const json = (v: unknown) => JSON.parse(v as string) as unknown;
const same = (r: Row) => r;

const KINDS: Record<DumpKind, KindSql> = {
  blobs: {
    from: 'FROM blobs WHERE refs > 0',
    columns: 'sha256, size, refs',
    after: 'sha256 > @k1',
    order: 'sha256',
    key: (r) => [r.sha256],
    shape: same,
  },
  sessions: {
    from: 'FROM sessions s LEFT JOIN session_seal_keys k ON k.session_seq = s.seq WHERE true',
    columns: `s.seq, s.id, s.meta, s.created_at, s.updated_at, s.expires_at, s.pinned, s.sealed_at,
      s.digest, s.signature, s.keep_versions, s.artifact_count, s.total_bytes, k.key_id,
      k.public_key_pem`,
    after: 's.seq > @k1',
    order: 's.seq',
    key: (r) => [r.seq],
    shape: (r) => ({
      id: r.id,
      meta: json(r.meta),
      created_at: r.created_at,
      updated_at: r.updated_at,
      expires_at: r.expires_at,
      pinned: bool(r.pinned),
      sealed_at: r.sealed_at,
      digest: r.digest,
      signature: r.signature,
      keep_versions: r.keep_versions,
      artifact_count: r.artifact_count,
      total_bytes: r.total_bytes,
      seal_key: r.key_id ? { key_id: r.key_id, public_key_pem: r.public_key_pem } : null,
    }),
  },
  artifacts: {
    from: 'FROM artifacts a JOIN sessions s ON s.seq = a.session_seq WHERE true',
    columns: `a.seq, a.id, s.id AS session, a.name, a.version, a.sha256, a.size, a.content_type,
      a.meta, a.created_at, a.expires_at, a.is_latest,
      (SELECT coalesce(json_agg(parent_id ORDER BY parent_id), '[]'::json)::text
        FROM lineage l WHERE l.child_seq = a.seq) AS derived_from`,
    after: 'a.seq > @k1',
    order: 'a.seq',
    key: (r) => [r.seq],
    shape: (r) => ({
      id: r.id,
      session: r.session,
      name: r.name,
      version: r.version,
      sha256: r.sha256,
      size: r.size,
      content_type: r.content_type,
      meta: json(r.meta),
      created_at: r.created_at,
      expires_at: r.expires_at,
      latest: bool(r.is_latest),
      derived_from: json(r.derived_from),
    }),
  },
  version_counters: {
    from: 'FROM version_counters v JOIN sessions s ON s.seq = v.session_seq WHERE true',
    columns: 'v.session_seq, s.id AS session, v.name, v.version',
    after: '(v.session_seq > @k1 OR (v.session_seq = @k1 AND v.name > @k2))',
    order: 'v.session_seq, v.name',
    key: (r) => [r.session_seq, r.name],
    shape: (r) => ({ session: r.session, name: r.name, version: r.version }),
  },
  tokens: {
    from: 'FROM tokens WHERE true',
    columns: 'id, name, hash, scope, sessions, created_at, last_used_at',
    after: 'id > @k1',
    order: 'id',
    key: (r) => [r.id],
    shape: same,
  },
  shares: {
    from: 'FROM shares WHERE true',
    columns: `id, token_hash, artifact_id, session_id, session_created_at, created_at, expires_at,
      max_downloads, downloads, last_access_at, revoked_at, created_by`,
    after: 'id > @k1',
    order: 'id',
    key: (r) => [r.id],
    shape: same,
  },
  artifacta_ids: {
    from: 'FROM artifacta_ids WHERE true',
    columns: 'id, kind, cairn_id, expires_at, deleted_at, upload, page',
    after: 'id > @k1',
    order: 'id',
    key: (r) => [r.id],
    shape: same,
  },
  artifacta_pages: {
    from: 'FROM artifacta_pages WHERE true',
    columns: 'secret, artifacta_id',
    after: 'secret > @k1',
    order: 'secret',
    key: (r) => [r.secret],
    shape: same,
  },
  idempotency: {
    from: 'FROM idempotency WHERE status <> 0',
    columns: 'key, status, body, created_at, request',
    after: 'key > @k1',
    order: 'key',
    key: (r) => [r.key],
    shape: same,
  },
  secrets: {
    from: 'FROM secrets WHERE true',
    columns: 'name, value',
    after: 'name > @k1',
    order: 'name',
    key: (r) => [r.name],
    shape: same,
  },
};

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
