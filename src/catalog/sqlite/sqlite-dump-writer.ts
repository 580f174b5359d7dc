import Database from 'better-sqlite3';
import { ConflictError, InvalidInputError } from '../../lib/errors.js';
import type { DumpKind, DumpRows, DumpWriter } from '../dump-catalog.js';

type Insert = (row: never) => void;

/** Tables whose rows make a catalog non-empty (inline_blobs are bytes, not content). */
const CONTENT_TABLES = [
  'sessions',
  'artifacts',
  'tokens',
  'shares',
  'artifacta_ids',
  'artifacta_pages',
  'idempotency',
  'secrets',
];

/**
 * A {@link DumpWriter} on its own connection to the catalog file, in one `BEGIN IMMEDIATE`
 * transaction held until commit: the write lock keeps every other writer out meanwhile (the
 * restore runs with the data dir locked, so there is none), and a crash before the commit
 * leaves nothing behind. The commit is fsynced (`synchronous = FULL`).
 */
export class SqliteDumpWriter implements DumpWriter {
  private readonly inserts: Record<DumpKind, Insert>;

  private constructor(private readonly db: Database.Database) {
    this.inserts = inserters(db);
  }

  /**
   * Opens `file` and starts the transaction; throws ConflictError(`catalog_not_empty`) if the
   * catalog holds content already.
   */
  static open(file: string, nativeBinding?: unknown): SqliteDumpWriter {
    const db = new Database(file, { nativeBinding: nativeBinding as string | undefined });
    try {
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = FULL');
      db.exec('BEGIN IMMEDIATE');
      for (const t of CONTENT_TABLES)
        if (db.prepare(`SELECT 1 FROM ${t} LIMIT 1`).get())
          throw new ConflictError(
            'catalog_not_empty',
            `the target catalog already holds ${t}; restore into an empty catalog`,
          );
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
      throw err;
    }
    return new SqliteDumpWriter(db);
  }

  async write<K extends DumpKind>(kind: K, rows: DumpRows[K][]): Promise<void> {
    const insert = this.inserts[kind];
    for (const row of rows) {
      try {
        insert(row as never);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (!code.startsWith('SQLITE_CONSTRAINT')) throw err;
        throw new InvalidInputError(
          'invalid_backup',
          `the backup's ${kind} row ${JSON.stringify(row).slice(0, 200)} does not fit (${(err as Error).message}); the backup is damaged`,
        );
      }
    }
  }

  async commit(): Promise<void> {
    this.db.exec('COMMIT');
    this.db.close();
  }

  async abort(): Promise<void> {
    if (!this.db.open) return;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.db.close();
  }
}

const SESSION_SEQ = '(SELECT seq FROM sessions WHERE id = @session)';

/** One insert per kind, storing a dump row as it came. */
function inserters(db: Database.Database): Record<DumpKind, Insert> {
  const run = (sql: string) => {
    const st = db.prepare(sql);
    return (row: Record<string, unknown>) => st.run(row);
  };
  const session = run(
    `INSERT INTO sessions (id, meta, created_at, updated_at, expires_at, pinned, sealed_at, digest,
       signature, keep_versions, artifact_count, total_bytes)
     VALUES (@id, @meta, @created_at, @updated_at, @expires_at, @pinned, @sealed_at, @digest,
       @signature, @keep_versions, @artifact_count, @total_bytes)`,
  );
  const sessionMeta = db.prepare(
    'INSERT INTO session_meta (key, value, session_seq) VALUES (?, ?, ?)',
  );
  const sealKey = db.prepare(
    'INSERT INTO session_seal_keys (session_seq, key_id, public_key_pem) VALUES (?, ?, ?)',
  );
  const artifact = run(
    `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta,
       created_at, expires_at, is_latest)
     VALUES (@id, ${SESSION_SEQ}, @name, @version, @sha256, @size, @content_type, @meta,
       @created_at, @expires_at, @latest)`,
  );
  const artifactMeta = db.prepare(
    'INSERT INTO artifact_meta (key, value, artifact_seq) VALUES (?, ?, ?)',
  );
  const lineage = db.prepare('INSERT INTO lineage (child_seq, parent_id) VALUES (?, ?)');
  return {
    blobs: run('INSERT INTO blobs (sha256, size, refs) VALUES (@sha256, @size, @refs)'),
    sessions: (s: DumpRows['sessions']) => {
      const seq = session({
        ...s,
        meta: JSON.stringify(s.meta),
        pinned: s.pinned ? 1 : 0,
      }).lastInsertRowid;
      for (const [k, v] of Object.entries(s.meta)) sessionMeta.run(k, v, seq);
      if (s.seal_key) sealKey.run(seq, s.seal_key.key_id, s.seal_key.public_key_pem);
    },
    artifacts: (a: DumpRows['artifacts']) => {
      const { derived_from: parents, ...rest } = a;
      const seq = artifact({
        ...rest,
        meta: JSON.stringify(a.meta),
        latest: a.latest ? 1 : 0,
      }).lastInsertRowid;
      for (const [k, v] of Object.entries(a.meta)) artifactMeta.run(k, v, seq);
      for (const p of parents) lineage.run(seq, p);
    },
    version_counters: run(
      `INSERT INTO version_counters (session_seq, name, version)
       VALUES (${SESSION_SEQ}, @name, @version)`,
    ),
    tokens: run(
      `INSERT INTO tokens (id, name, hash, scope, sessions, created_at, last_used_at)
       VALUES (@id, @name, @hash, @scope, @sessions, @created_at, @last_used_at)`,
    ),
    shares: run(
      `INSERT INTO shares (id, token_hash, artifact_id, session_id, session_created_at,
         created_at, expires_at, max_downloads, downloads, last_access_at, revoked_at, created_by)
       VALUES (@id, @token_hash, @artifact_id, @session_id, @session_created_at, @created_at,
         @expires_at, @max_downloads, @downloads, @last_access_at, @revoked_at, @created_by)`,
    ),
    artifacta_ids: run(
      `INSERT INTO artifacta_ids (id, kind, cairn_id, expires_at, deleted_at, upload, page)
       VALUES (@id, @kind, @cairn_id, @expires_at, @deleted_at, @upload, @page)`,
    ),
    artifacta_pages: run(
      'INSERT INTO artifacta_pages (secret, artifacta_id) VALUES (@secret, @artifacta_id)',
    ),
    idempotency: run(
      `INSERT INTO idempotency (key, status, body, created_at, request)
       VALUES (@key, @status, @body, @created_at, @request)`,
    ),
    secrets: run('INSERT INTO secrets (name, value) VALUES (@name, @value)'),
  } as Record<DumpKind, Insert>;
}
