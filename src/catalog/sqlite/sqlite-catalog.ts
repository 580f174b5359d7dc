import Database from 'better-sqlite3';
import { join } from 'node:path';
import type {
  ArtifactQuery,
  ArtifactRecord,
  Page,
  Scope,
  SessionQuery,
  SessionRecord,
  TokenRecord,
} from '../../core/types.js';
import type {
  Catalog,
  IdempotentAnswer,
  NewArtifact,
  RemovedArtifact,
  TokenRow,
} from '../catalog.js';
import { ArtifactWrites } from './artifact-writes.js';
import { SessionWrites, type NewSession, type SessionPatch } from './session-writes.js';
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
} from './rows.js';
import { NUMBER_RE } from '../../core/where-parser.js';
import { SqliteTokenRows } from './sqlite-token-rows.js';
import { Checkpointer } from './checkpointer.js';
import { WalSync } from './wal-sync.js';
import { WriteBatcher } from './write-batcher.js';
import { SqliteRetention } from './sqlite-retention.js';
import { SqliteShares } from './sqlite-shares.js';
import { SqliteArtifacta } from './sqlite-artifacta.js';
import { SqliteAudit } from './sqlite-audit.js';
import { SqliteImports } from './sqlite-imports.js';
import { SqliteStats } from './sqlite-stats.js';
import { SqliteInlineBlobs } from './sqlite-inline-blobs.js';
import { cacheStatements } from './statement-cache.js';
import { queryArtifactRows } from './artifact-query-plan.js';
import { MetaBitmaps } from './meta-bitmaps.js';

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
  /** Metadata bitmaps for the query planner (see MetaBitmaps). */
  readonly bitmaps: MetaBitmaps;
  private readonly sessionWrites: SessionWrites;
  private readonly batch: WriteBatcher;
  private readonly tokenRows: SqliteTokenRows;
  readonly retention: SqliteRetention;
  readonly shares: SqliteShares;
  readonly artifacta: SqliteArtifacta;
  readonly audit: SqliteAudit;
  readonly imports: SqliteImports;
  readonly stats: SqliteStats;
  /** Small blobs kept in this database, for the blob store (TieredBlobStore). */
  readonly inlineBlobs: SqliteInlineBlobs;

  private readonly checkpointer: Checkpointer | null;

  private constructor(
    readonly db: Database.Database,
    private readonly walSync: WalSync | null,
    pin: { db: Database.Database; file: string } | null,
  ) {
    this.bitmaps = new MetaBitmaps(db);
    this.writes = new ArtifactWrites(db, this.bitmaps);
    this.sessionWrites = new SessionWrites(db);
    this.checkpointer = pin
      ? new Checkpointer(db, pin.db, pin.file, { syncPoint: () => this.batch.run(() => undefined) })
      : null;
    this.batch = new WriteBatcher(db, {
      sync: walSync ? () => walSync.sync() : undefined,
      afterCommit: this.checkpointer ? () => this.checkpointer?.noteCommit() : undefined,
    });
    this.tokenRows = new SqliteTokenRows(db, this.batch);
    this.retention = new SqliteRetention(db, this.batch);
    this.shares = new SqliteShares(db, this.batch);
    this.artifacta = new SqliteArtifacta(db, this.batch);
    this.audit = new SqliteAudit(db, this.batch);
    this.imports = new SqliteImports(db, this.batch, this.bitmaps);
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
    if (opts.durability !== 'full') return new SqliteCatalog(db, null, null);
    const walSync = new WalSync(`${file}-wal`);
    walSync.syncNow();
    // Checkpoints run in rounds that fsync catalog.db off the event loop (see Checkpointer).
    const pin = new Database(file, { nativeBinding: opts.nativeBinding as string | undefined });
    pin.pragma('busy_timeout = 5000');
    return new SqliteCatalog(db, walSync, { db: pin, file });
  }

  async createSession(s: NewSession): Promise<SessionRecord> {
    return this.batch.run(() => this.sessionWrites.create(s));
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

  async updateSession(id: string, patch: SessionPatch, now: number): Promise<SessionRecord> {
    return this.batch.run(() => this.sessionWrites.update(id, patch, now));
  }

  async sealSession(
    id: string,
    now: number,
    computeSeal: (artifacts: ArtifactRecord[]) => { digest: string; signature: string },
  ): Promise<SessionRecord> {
    return this.batch.run(() =>
      this.sessionWrites.seal(id, now, () => computeSeal(this.sessionArtifactsSync(id, now))),
    );
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
    // Without a version: the newest one still live (the newest row may have expired).
    const which = version === undefined ? '' : 'AND a.version = @version';
    const row = this.db
      .prepare<Record<string, unknown>, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @session AND a.name = @name ${which} AND ${ARTIFACT_LIVE}
         ORDER BY a.version DESC LIMIT 1`,
      )
      .get({ session, name, version, now });
    return row ? toArtifact(row) : null;
  }

  async queryArtifacts(q: ArtifactQuery, now: number): Promise<Page<ArtifactRecord>> {
    return page(queryArtifactRows(this.db, q, now, this.bitmaps), q.limit, toArtifact);
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

  async getIdempotent(key: string, since: number): Promise<IdempotentAnswer | null> {
    return this.tokenRows.getIdempotent(key, since);
  }

  async putIdempotent(key: string, answer: IdempotentAnswer, now: number): Promise<void> {
    return this.tokenRows.putIdempotent(key, answer, now);
  }

  async close(): Promise<void> {
    await this.batch.drain();
    await this.checkpointer?.close();
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
