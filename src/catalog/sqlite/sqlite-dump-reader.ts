import { DUMP_KINDS } from '../../lib/dump-kinds.js';
import Database from 'better-sqlite3';
import { type DumpKind, type DumpPage, type DumpReader, type DumpRows } from '../dump-catalog.js';

type Row = Record<string, unknown>;

/** How one kind is read: its rows after a cursor, keyset-paged, and how many there are. */
interface KindSql {
  /** FROM … WHERE clause shared by the count and the page (no ORDER BY). */
  from: string;
  columns: string;
  /** The condition "after the cursor", on parameters @k1 (and @k2 for a two-column key). */
  after: string;
  order: string;
  /** The cursor of a row. */
  key: (r: Row) => unknown[];
  shape: (r: Row) => unknown;
}

const bool = (v: unknown) => v === 1;
const json = (v: unknown) => JSON.parse(v as string) as unknown;

const KINDS: Record<DumpKind, KindSql> = {
  blobs: {
    from: 'FROM blobs WHERE refs > 0',
    columns: 'sha256, size, refs',
    after: 'sha256 > @k1',
    order: 'sha256',
    key: (r) => [r.sha256],
    shape: (r) => r,
  },
  sessions: {
    from: 'FROM sessions s LEFT JOIN session_seal_keys k ON k.session_seq = s.seq WHERE 1',
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
    from: 'FROM artifacts a JOIN sessions s ON s.seq = a.session_seq WHERE 1',
    columns: `a.seq, a.id, s.id AS session, a.name, a.version, a.sha256, a.size, a.content_type,
      a.meta, a.created_at, a.expires_at, a.is_latest,
      (SELECT json_group_array(parent_id) FROM
        (SELECT parent_id FROM lineage l WHERE l.child_seq = a.seq ORDER BY parent_id))
        AS derived_from`,
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
    from: 'FROM version_counters v JOIN sessions s ON s.seq = v.session_seq WHERE 1',
    columns: 'v.session_seq, s.id AS session, v.name, v.version',
    after: '(v.session_seq > @k1 OR (v.session_seq = @k1 AND v.name > @k2))',
    order: 'v.session_seq, v.name',
    key: (r) => [r.session_seq, r.name],
    shape: (r) => ({ session: r.session, name: r.name, version: r.version }),
  },
  tokens: {
    from: 'FROM tokens WHERE 1',
    columns: 'id, name, hash, scope, sessions, created_at, last_used_at',
    after: 'id > @k1',
    order: 'id',
    key: (r) => [r.id],
    shape: (r) => r,
  },
  shares: {
    from: 'FROM shares WHERE 1',
    columns: `id, token_hash, artifact_id, session_id, session_created_at, created_at, expires_at,
      max_downloads, downloads, last_access_at, revoked_at, created_by`,
    after: 'id > @k1',
    order: 'id',
    key: (r) => [r.id],
    shape: (r) => r,
  },
  artifacta_ids: {
    from: 'FROM artifacta_ids WHERE 1',
    columns: 'id, kind, cairn_id, expires_at, deleted_at, upload, page',
    after: 'id > @k1',
    order: 'id',
    key: (r) => [r.id],
    shape: (r) => r,
  },
  artifacta_pages: {
    from: 'FROM artifacta_pages WHERE 1',
    columns: 'secret, artifacta_id',
    after: 'secret > @k1',
    order: 'secret',
    key: (r) => [r.secret],
    shape: (r) => r,
  },
  idempotency: {
    from: 'FROM idempotency WHERE status <> 0',
    columns: 'key, status, body, created_at, request',
    after: 'key > @k1',
    order: 'key',
    key: (r) => [r.key],
    shape: (r) => r,
  },
  secrets: {
    from: 'FROM secrets WHERE 1',
    columns: 'name, value',
    after: 'name > @k1',
    order: 'name',
    key: (r) => [r.name],
    shape: (r) => r,
  },
};

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
