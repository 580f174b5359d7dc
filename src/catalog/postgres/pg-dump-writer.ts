import type pg from 'pg';
import { ConflictError, InvalidInputError } from '../../lib/errors.js';
import type { DumpKind, DumpRows, DumpWriter } from '../dump-catalog.js';
import { wrap, type PgDb, type Queryable } from './pg-db.js';
import { mapPgError } from './pg-errors.js';
import { pgText } from './pg-glob.js';

const ignore = () => undefined;

type Insert = (row: never) => Promise<void>;

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

const SESSION_SEQ = '(SELECT seq FROM sessions WHERE id = @session)';

/**
 * A {@link DumpWriter} on one pooled connection in one transaction (`BEGIN` … `COMMIT`): no
 * row is visible to any node before the commit, and a crash or {@link abort} before it leaves
 * the catalog empty (mirrors sqlite-dump-writer.ts).
 */
export class PgDumpWriter implements DumpWriter {
  private readonly inserts: Record<DumpKind, Insert>;
  private done = false;

  private constructor(private readonly client: pg.PoolClient) {
    this.inserts = inserters(wrap(client));
  }

  /** Starts the transaction; ConflictError(`catalog_not_empty`) if the catalog holds content. */
  static async open(db: PgDb): Promise<PgDumpWriter> {
    const client = await db.pool.connect().catch((err: unknown) => {
      throw mapPgError(err);
    });
    // A held connection the server drops (restart, or the database dropped) fails the next
    // statement; the error event itself must not go unhandled.
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      for (const t of CONTENT_TABLES)
        if ((await client.query(`SELECT 1 FROM ${t} LIMIT 1`)).rows.length > 0)
          throw new ConflictError(
            'catalog_not_empty',
            `the target catalog already holds ${t}; restore into an empty catalog`,
          );
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.removeListener('error', ignore);
      client.release();
      throw mapPgError(err);
    }
    return new PgDumpWriter(client);
  }

  async write<K extends DumpKind>(kind: K, rows: DumpRows[K][]): Promise<void> {
    const insert = this.inserts[kind];
    for (const row of rows) {
      try {
        await insert(row as never);
      } catch (err) {
        // Integrity violations (class 23): a row that refers to a missing one.
        if (!/^23/.test((err as { code?: string }).code ?? '')) throw mapPgError(err);
        throw new InvalidInputError(
          'invalid_backup',
          `the backup's ${kind} row ${JSON.stringify(row).slice(0, 200)} does not fit (${(err as Error).message}); the backup is damaged`,
        );
      }
    }
  }

  async commit(): Promise<void> {
    this.done = true;
    try {
      await this.client.query('COMMIT');
      this.client.removeListener('error', ignore);
      this.client.release();
    } catch (err) {
      this.client.removeListener('error', ignore);
      this.client.release(true);
      throw mapPgError(err);
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    let broken = false;
    await this.client.query('ROLLBACK').catch(() => (broken = true));
    this.client.removeListener('error', ignore);
    this.client.release(broken);
  }
}

/** One insert per kind, storing a dump row as it came. */
function inserters(q: Queryable): Record<DumpKind, Insert> {
  const run = (sql: string) => async (row: Record<string, unknown>) => void (await q.run(sql, row));
  const meta = async (table: string, owner: string, seq: number, m: Record<string, string>) => {
    const entries = Object.entries(m);
    if (entries.length > 0)
      await q.run(
        `INSERT INTO ${table} (key, value, ${owner}) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS m(k, v)`,
        [entries.map((e) => e[0]), entries.map((e) => pgText(e[1])), seq],
      );
  };
  return {
    blobs: run('INSERT INTO blobs (sha256, size, refs) VALUES (@sha256, @size, @refs)'),
    sessions: async (s: DumpRows['sessions']) => {
      const { seq } = (await q.get<{ seq: number }>(
        `INSERT INTO sessions (id, meta, created_at, updated_at, expires_at, pinned, sealed_at,
           digest, signature, keep_versions, artifact_count, total_bytes)
         VALUES (@id, @meta, @created_at, @updated_at, @expires_at, @pinned, @sealed_at, @digest,
           @signature, @keep_versions, @artifact_count, @total_bytes) RETURNING seq`,
        {
          id: s.id,
          meta: JSON.stringify(s.meta),
          created_at: s.created_at,
          updated_at: s.updated_at,
          expires_at: s.expires_at,
          pinned: s.pinned ? 1 : 0,
          sealed_at: s.sealed_at,
          digest: s.digest,
          signature: s.signature,
          keep_versions: s.keep_versions,
          artifact_count: s.artifact_count,
          total_bytes: s.total_bytes,
        },
      ))!;
      await meta('session_meta', 'session_seq', seq, s.meta);
      if (s.seal_key)
        await q.run(
          'INSERT INTO session_seal_keys (session_seq, key_id, public_key_pem) VALUES ($1, $2, $3)',
          [seq, s.seal_key.key_id, s.seal_key.public_key_pem],
        );
    },
    artifacts: async (a: DumpRows['artifacts']) => {
      const row = await q.get<{ seq: number }>(
        `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta,
           created_at, expires_at, is_latest)
         VALUES (@id, ${SESSION_SEQ}, @name, @version, @sha256, @size, @content_type, @meta,
           @created_at, @expires_at, @latest) RETURNING seq`,
        {
          id: a.id,
          session: a.session,
          name: a.name,
          version: a.version,
          sha256: a.sha256,
          size: a.size,
          content_type: a.content_type,
          meta: JSON.stringify(a.meta),
          created_at: a.created_at,
          expires_at: a.expires_at,
          latest: a.latest ? 1 : 0,
        },
      );
      const seq = row!.seq;
      await meta('artifact_meta', 'artifact_seq', seq, a.meta);
      if (a.derived_from.length > 0)
        await q.run(
          'INSERT INTO lineage (child_seq, parent_id) SELECT $1, p FROM unnest($2::text[]) AS p',
          [seq, a.derived_from],
        );
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
