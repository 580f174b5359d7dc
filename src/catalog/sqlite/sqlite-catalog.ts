import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ConflictError, NotFoundError, SessionSealedError } from '../../lib/errors.js';
import type {
  ArtifactQuery,
  ArtifactRecord,
  Page,
  Scope,
  SessionQuery,
  SessionRecord,
  TokenRecord,
} from '../../core/types.js';
import type { Meta } from '../../core/validate.js';
import type { Catalog, NewArtifact, RemovedArtifact, TokenRow } from '../catalog.js';
import { ArtifactWrites } from './artifact-writes.js';
import { migrate } from './migrations.js';
import { encodeCursor, sessionQuerySql } from './query-sql.js';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_LIVE,
  toArtifact,
  toSession,
  type ArtifactRow,
  type SessionRow,
  liveSessionRow,
  sessionAt,
} from './rows.js';
import { NUMBER_RE } from '../../core/where-parser.js';
import { SqliteTokenRows } from './sqlite-token-rows.js';
import { WalSync } from './wal-sync.js';
import { WriteBatcher } from './write-batcher.js';
import { SqliteRetention, purgeIfExpired, sealedExpiry } from './sqlite-retention.js';
import { SqliteShares } from './sqlite-shares.js';
import { SqliteAudit } from './sqlite-audit.js';
import { SqliteImports } from './sqlite-imports.js';
import { SqliteStats } from './sqlite-stats.js';
import { SqliteInlineBlobs } from './sqlite-inline-blobs.js';
import { cacheStatements } from './statement-cache.js';
import { queryArtifactRows } from './artifact-query-plan.js';

/** Options for {@link SqliteCatalog.open}. */
export interface SqliteCatalogOptions {
  /** Directory holding catalog.db. */
  dir: string;
  /** `full`: fsync every commit (survives power loss); `process`: survives a process crash. */
  durability: 'full' | 'process';
  /** Loaded native binding (single binary); default: better-sqlite3's own lookup. */
  nativeBinding?: unknown;
}

/** Catalog in one SQLite file (WAL, foreign keys on), writes group-committed. */
export class SqliteCatalog implements Catalog {
  private readonly writes: ArtifactWrites;
  private readonly batch: WriteBatcher;
  private readonly tokenRows: SqliteTokenRows;
  readonly retention: SqliteRetention;
  readonly shares: SqliteShares;
  readonly audit: SqliteAudit;
  readonly imports: SqliteImports;
  readonly stats: SqliteStats;
  /** Small blobs kept in this database, for the blob store (TieredBlobStore). */
  readonly inlineBlobs: SqliteInlineBlobs;

  private constructor(
    readonly db: Database.Database,
    private readonly walSync: WalSync | null,
  ) {
    this.writes = new ArtifactWrites(db);
    this.batch = new WriteBatcher(db, { sync: walSync ? () => walSync.sync() : undefined });
    this.tokenRows = new SqliteTokenRows(db, this.batch);
    this.retention = new SqliteRetention(db, this.batch);
    this.shares = new SqliteShares(db, this.batch);
    this.audit = new SqliteAudit(db, this.batch);
    this.imports = new SqliteImports(db, this.batch);
    this.stats = new SqliteStats(db);
    this.inlineBlobs = new SqliteInlineBlobs(db, this.batch);
  }

  /** Opens (creating and migrating as needed) `<dir>/catalog.db`. */
  static open(opts: SqliteCatalogOptions): SqliteCatalog {
    const file = join(opts.dir, 'catalog.db');
    const db = new Database(file, { nativeBinding: opts.nativeBinding as string | undefined });
    db.pragma('journal_mode = WAL');
    // `full` durability is NORMAL plus an fsync of the WAL after each group commit, run off the
    // event loop by the write batcher (see WalSync): FULL's guarantee without blocking on disk.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -65536');
    db.function('cairn_isnum', { deterministic: true }, (v: unknown) =>
      typeof v === 'string' && NUMBER_RE.test(v) ? 1 : 0,
    );
    migrate(db);
    cacheStatements(db);
    const walSync = opts.durability === 'full' ? new WalSync(`${file}-wal`) : null;
    walSync?.syncNow();
    return new SqliteCatalog(db, walSync);
  }

  async createSession(s: {
    id: string;
    meta: Meta;
    expiresAt: number | null;
    keepVersions?: number | null;
    now: number;
  }): Promise<SessionRecord> {
    return this.batch.run(() => {
      purgeIfExpired(this.db, s.id, s.now);
      const exists = this.db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(s.id);
      if (exists) throw new ConflictError('session_exists', `session '${s.id}' already exists`);
      const seq = Number(
        this.db
          .prepare(
            'INSERT INTO sessions (id, meta, created_at, updated_at, expires_at, keep_versions) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(s.id, JSON.stringify(s.meta), s.now, s.now, s.expiresAt, s.keepVersions ?? null)
          .lastInsertRowid,
      );
      this.replaceSessionMeta(seq, s.meta);
      return sessionAt(this.db, seq);
    });
  }

  private replaceSessionMeta(seq: number, meta: Meta): void {
    this.db.prepare('DELETE FROM session_meta WHERE session_seq = ?').run(seq);
    const ins = this.db.prepare(
      'INSERT INTO session_meta (key, value, session_seq) VALUES (?, ?, ?)',
    );
    for (const [k, v] of Object.entries(meta)) ins.run(k, v, seq);
  }

  async getSession(id: string, now: number): Promise<SessionRecord | null> {
    const row = liveSessionRow(this.db, id, now);
    return row ? toSession(row) : null;
  }

  async listSessions(q: SessionQuery, now: number): Promise<Page<SessionRecord>> {
    const sql = sessionQuerySql(q, now);
    const rows = this.db.prepare<Record<string, unknown>, SessionRow>(sql.text).all(sql.params);
    return page(rows, q.limit, toSession);
  }

  async updateSession(
    id: string,
    patch: {
      meta?: Meta;
      expiresAt?: number | null;
      keepVersions?: number | null;
      pinned?: boolean;
    },
    now: number,
  ): Promise<SessionRecord> {
    return this.batch.run(() => {
      const row = liveSessionRow(this.db, id, now);
      if (!row) throw new NotFoundError(`session '${id}' not found`);
      if (
        row.sealed_at !== null &&
        (patch.meta !== undefined ||
          patch.expiresAt !== undefined ||
          patch.keepVersions !== undefined)
      )
        throw new SessionSealedError(id);
      const next = {
        meta: patch.meta !== undefined ? JSON.stringify(patch.meta) : row.meta,
        expires: patch.expiresAt !== undefined ? patch.expiresAt : row.expires_at,
        pinned: patch.pinned !== undefined ? Number(patch.pinned) : row.pinned,
      };
      this.db
        .prepare(
          'UPDATE sessions SET meta = ?, expires_at = ?, pinned = ?, updated_at = ? WHERE seq = ?',
        )
        .run(next.meta, next.expires, next.pinned, now, row.seq);
      if (patch.keepVersions !== undefined)
        this.db
          .prepare('UPDATE sessions SET keep_versions = ? WHERE seq = ?')
          .run(patch.keepVersions, row.seq);
      if (patch.meta !== undefined) this.replaceSessionMeta(row.seq, patch.meta);
      return sessionAt(this.db, row.seq);
    });
  }

  async sealSession(
    id: string,
    now: number,
    computeSeal: (artifacts: ArtifactRecord[]) => { digest: string; signature: string },
  ): Promise<SessionRecord> {
    return this.batch.run(() => {
      const row = liveSessionRow(this.db, id, now);
      if (!row) throw new NotFoundError(`session '${id}' not found`);
      if (row.sealed_at !== null) return toSession(row);
      const seal = computeSeal(this.sessionArtifactsSync(id, now));
      this.db
        .prepare(
          'UPDATE sessions SET sealed_at = ?, digest = ?, signature = ?, updated_at = ?, expires_at = ? WHERE seq = ?',
        )
        .run(now, seal.digest, seal.signature, now, sealedExpiry(this.db, row.seq, now), row.seq);
      return sessionAt(this.db, row.seq);
    });
  }

  async sessionArtifacts(id: string, now: number): Promise<ArtifactRecord[]> {
    return this.sessionArtifactsSync(id, now);
  }

  private sessionArtifactsSync(id: string, now: number): ArtifactRecord[] {
    return this.db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @id AND ${ARTIFACT_LIVE} ORDER BY a.name, a.version`,
      )
      .all({ id, now })
      .map(toArtifact);
  }

  async addArtifact(a: NewArtifact): Promise<ArtifactRecord> {
    return this.batch.run(() => toArtifact(this.writes.add(a)));
  }

  async getArtifact(id: string, now: number): Promise<ArtifactRecord | null> {
    const row = this.db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq WHERE a.id = @id AND ${ARTIFACT_LIVE}`,
      )
      .get({ id, now });
    return row ? toArtifact(row) : null;
  }

  async findArtifact(
    session: string,
    name: string,
    version: number | undefined,
    now: number,
  ): Promise<ArtifactRecord | null> {
    const which = version === undefined ? 'a.is_latest = 1' : 'a.version = @version';
    const row = this.db
      .prepare<Record<string, unknown>, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @session AND a.name = @name AND ${which} AND ${ARTIFACT_LIVE}`,
      )
      .get({ session, name, version, now });
    return row ? toArtifact(row) : null;
  }

  async queryArtifacts(q: ArtifactQuery, now: number): Promise<Page<ArtifactRecord>> {
    return page(queryArtifactRows(this.db, q, now), q.limit, toArtifact);
  }

  async deleteArtifact(id: string, now: number): Promise<RemovedArtifact> {
    return this.batch.run(() => {
      const { row, unreferenced } = this.writes.remove(id, now);
      return { record: toArtifact(row), blobUnreferenced: unreferenced };
    });
  }

  async derivedFrom(id: string, now: number): Promise<ArtifactRecord[]> {
    return this.db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM lineage l JOIN artifacts a ON a.seq = l.child_seq
         JOIN sessions s ON s.seq = a.session_seq WHERE l.parent_id = @id AND ${ARTIFACT_LIVE} ORDER BY a.seq`,
      )
      .all({ id, now })
      .map(toArtifact);
  }

  async blobRefs(sha256: string): Promise<number> {
    const row = this.db
      .prepare<[string], { refs: number }>('SELECT refs FROM blobs WHERE sha256 = ?')
      .get(sha256);
    return row?.refs ?? 0;
  }

  async dropBlobIfUnreferenced(sha256: string): Promise<boolean> {
    return this.batch.run(
      () =>
        this.db.prepare('DELETE FROM blobs WHERE sha256 = ? AND refs <= 0').run(sha256).changes > 0,
    );
  }

  async *listBlobs(): AsyncIterable<{ sha256: string; size: number; refs: number }> {
    for (const row of this.db
      .prepare<[], { sha256: string; size: number; refs: number }>(
        'SELECT sha256, size, refs FROM blobs',
      )
      .iterate()) {
      yield row;
    }
  }

  async addToken(t: TokenRow): Promise<void> {
    return this.tokenRows.add(t);
  }

  async findToken(hash: string, now: number): Promise<TokenRow | null> {
    return this.tokenRows.find(hash, now);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.tokenRows.list();
  }

  async deleteToken(id: string): Promise<void> {
    return this.tokenRows.delete(id);
  }

  async countTokens(scope?: Scope): Promise<number> {
    return this.tokenRows.count(scope);
  }

  async getIdempotent(
    key: string,
    since: number,
  ): Promise<{ status: number; body: string } | null> {
    return this.tokenRows.getIdempotent(key, since);
  }

  async putIdempotent(key: string, status: number, body: string, now: number): Promise<void> {
    return this.tokenRows.putIdempotent(key, status, body, now);
  }

  async close(): Promise<void> {
    await this.batch.drain();
    if (this.db.open) this.db.close();
    this.walSync?.close();
  }
}

function page<R extends { seq: number }, T>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return {
    items: items.map(map),
    next_cursor: more ? encodeCursor(items[items.length - 1].seq) : null,
  };
}
