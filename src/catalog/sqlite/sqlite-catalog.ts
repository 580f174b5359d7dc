import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ArtifactQuery, Page, Scope, SessionQuery } from '../../core/types.js';
import type { StoredArtifact, StoredSession, StoredToken } from '../stored-rows.js';
import type {
  Catalog,
  CatalogCapabilities,
  NewArtifact,
  RemovedArtifact,
  TokenRow,
} from '../catalog.js';
import { ArtifactWrites } from './artifact-writes.js';
import { SessionWrites, type NewSession, type SessionPatch } from './session-writes.js';
import { migrate } from './migrations.js';
import { toArtifact } from './rows.js';
import { appendEvent } from './event-rows.js';
import { artifactEventData, sessionEventData } from '../event-payload.js';
import { SqliteReads } from './sqlite-reads.js';
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
import { SqliteLeases } from './sqlite-leases.js';
import { SqliteIdempotency } from './sqlite-idempotency.js';
import { SqliteSecrets } from './sqlite-secrets.js';
import { SqliteEvents } from './sqlite-events.js';
import { SqliteDump } from './sqlite-dump.js';
import { cacheStatements } from './statement-cache.js';
import { MetaBitmaps } from './meta-bitmaps.js';
import { catalogReads } from './catalog-reads.js';
import { ReadPool } from './read-pool.js';
import { registerQueryFunctions } from './read-worker.js';

/** Options for {@link SqliteCatalog.open}. */
export interface SqliteCatalogOptions {
  /** Directory holding catalog.db (unless `file` names the database file itself). */
  dir?: string;
  /** The database file (created with its directory if missing); default `<dir>/catalog.db`. */
  file?: string;
  /** `full`: fsync every commit (survives power loss); `process`: survives a process crash. */
  durability: 'full' | 'process';
  /** Loaded native binding (single binary); default: better-sqlite3's own lookup. */
  nativeBinding?: unknown;
  /**
   * Budget of one query (artifact and session queries, lineage), in ms; past it the query fails
   * with `query_too_expensive` (default 2000).
   */
  queryTimeoutMs?: number;
}

/**
 * Catalog in one SQLite file (WAL, foreign keys on), writes group-committed. This class is the
 * composition root of the SQLite backend: it opens the database, builds the parts (reads,
 * artifact and session writes, tokens, retention, shares, audit, imports, stats, inline blobs)
 * over one connection and one write batcher, and delegates each Catalog method to one of them.
 * `db` and `bitmaps` are escape hatches for tests and benchmarks only; the app reaches SQLite
 * through the Catalog interface and its declared capabilities.
 */
export class SqliteCatalog implements Catalog {
  /** Point lookups, answered on this thread (a client cannot make them expensive). */
  private readonly local: SqliteReads;
  private readonly writes: ArtifactWrites;
  /** Metadata bitmaps for the query planner (see MetaBitmaps). Escape hatch: tests only. */
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
  readonly leases: SqliteLeases;
  readonly idempotency: SqliteIdempotency;
  readonly secrets: SqliteSecrets;
  readonly events: SqliteEvents;
  readonly dump: SqliteDump;
  /** Small blobs kept in this database: the inline tier of the blob store (TieredBlobStore). */
  readonly capabilities: CatalogCapabilities;

  private readonly checkpointer: Checkpointer | null;

  private constructor(
    /** The connection. Escape hatch: tests and benchmarks only. */
    readonly db: Database.Database,
    /** Where queries run: worker threads with their own connections (see ReadPool). */
    private readonly reads: ReadPool,
    private readonly walSync: WalSync | null,
    pin: { db: Database.Database; file: string } | null,
    file: { path: string; nativeBinding?: unknown },
  ) {
    // A restore holds the write lock on its own connection: no checkpoint round may be due
    // meanwhile (it would wait on that lock, then fail): the running round ends, then one that
    // starts after it takes every commit so far and leaves none due.
    this.dump = new SqliteDump(file.path, file.nativeBinding, async () => {
      await this.checkpointer?.run();
      await this.checkpointer?.run();
    });
    this.bitmaps = new MetaBitmaps(db);
    this.local = new SqliteReads(db);
    this.writes = new ArtifactWrites(db, this.bitmaps);
    this.sessionWrites = new SessionWrites(db);
    this.checkpointer = pin
      ? new Checkpointer(db, pin.db, pin.file, { syncPoint: () => this.batch.run(() => undefined) })
      : null;
    this.batch = new WriteBatcher(db, {
      // Events become readable once durable (see SqliteEvents).
      sync: walSync ? () => this.events.durably(() => walSync.sync()) : undefined,
      afterCommit: () => {
        this.checkpointer?.noteCommit();
        this.events.noteCommit();
      },
    });
    this.tokenRows = new SqliteTokenRows(db, this.batch);
    this.retention = new SqliteRetention(db, this.batch);
    this.shares = new SqliteShares(db, this.batch);
    this.artifacta = new SqliteArtifacta(db, this.batch);
    this.audit = new SqliteAudit(db, this.batch);
    this.imports = new SqliteImports(db, this.batch, this.bitmaps);
    this.stats = new SqliteStats(db);
    this.leases = new SqliteLeases(db, this.batch);
    this.idempotency = new SqliteIdempotency(db, this.batch);
    this.secrets = new SqliteSecrets(db, this.batch);
    this.events = new SqliteEvents(db, this.batch, walSync ? () => walSync.sync() : undefined);
    this.capabilities = { inlineBlobs: new SqliteInlineBlobs(db, this.batch) };
  }

  /** Opens (creating and migrating as needed) `file`, by default `<dir>/catalog.db`. */
  static open(opts: SqliteCatalogOptions): SqliteCatalog {
    const file = opts.file ?? join(opts.dir ?? '.', 'catalog.db');
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const db = new Database(file, { nativeBinding: opts.nativeBinding as string | undefined });
    db.pragma('journal_mode = WAL');
    // `full` durability is NORMAL plus an fsync of the WAL after each group commit, run off the
    // event loop by the write batcher (see WalSync): FULL's guarantee without blocking on disk.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -65536');
    registerQueryFunctions(db);
    migrate(db);
    cacheStatements(db);
    const reads = new ReadPool({ file, budgetMs: opts.queryTimeoutMs ?? 2000 });
    const dump = { path: file, nativeBinding: opts.nativeBinding };
    if (opts.durability !== 'full') return new SqliteCatalog(db, reads, null, null, dump);
    const walSync = new WalSync(`${file}-wal`);
    walSync.syncNow();
    // Checkpoints run in rounds that fsync catalog.db off the event loop (see Checkpointer).
    const pin = new Database(file, { nativeBinding: opts.nativeBinding as string | undefined });
    pin.pragma('busy_timeout = 5000');
    return new SqliteCatalog(db, reads, walSync, { db: pin, file }, dump);
  }

  /** Queries running on the read workers right now. */
  get queriesRunning(): number {
    return this.reads.running;
  }

  async createSession(s: NewSession): Promise<StoredSession> {
    return this.batch.run(() => this.sessionWrites.create(s));
  }

  async getSession(id: string, now: number): Promise<StoredSession | null> {
    return this.local.getSession(id, now);
  }

  async listSessions(q: SessionQuery, now: number): Promise<Page<StoredSession>> {
    return this.reads.run('listSessions', [q, now]);
  }

  async updateSession(id: string, patch: SessionPatch, now: number): Promise<StoredSession> {
    return this.batch.run(() => this.sessionWrites.update(id, patch, now));
  }

  async sealSession(
    id: string,
    now: number,
    computeSeal: (artifacts: StoredArtifact[]) => { digest: string; signature: string },
  ): Promise<StoredSession> {
    return this.batch.run(() => {
      let sealing = false;
      const rec = this.sessionWrites.seal(id, now, () => {
        sealing = true;
        return computeSeal(catalogReads.sessionArtifacts(this.db, id, now));
      });
      if (sealing) appendEvent(this.db, 'session.sealed', id, sessionEventData(rec));
      return rec;
    });
  }

  async sessionArtifacts(id: string, now: number): Promise<StoredArtifact[]> {
    // No budget: export, manifest and import need every row, and it costs one row per artifact
    // the session holds, whatever the client asks (it still runs off the HTTP thread).
    return this.reads.run('sessionArtifacts', [id, now], false);
  }

  async latestLines(id: string, now: number, after: string, limit: number): Promise<string> {
    return this.reads.run('latestLines', [id, now, after, limit], false);
  }

  async addArtifact(a: NewArtifact): Promise<StoredArtifact> {
    return this.batch.run(() => this.add(a));
  }

  async addArtifacts(list: NewArtifact[]): Promise<StoredArtifact[]> {
    return this.batch.run(() => list.map((a) => this.add(a)));
  }

  /** One push with its `artifact.created` event, inside the caller's transaction. */
  private add(a: NewArtifact): StoredArtifact {
    const added = toArtifact(this.writes.add(a));
    const data = artifactEventData(added);
    if (a.deduplicated !== undefined) data.deduplicated = a.deduplicated;
    appendEvent(this.db, 'artifact.created', added.session, data);
    return added;
  }

  async getArtifact(id: string, now: number): Promise<StoredArtifact | null> {
    return this.local.getArtifact(id, now);
  }

  async findArtifact(
    session: string,
    name: string,
    version: number | undefined,
    now: number,
  ): Promise<StoredArtifact | null> {
    return this.local.findArtifact(session, name, version, now);
  }

  async queryArtifacts(q: ArtifactQuery, now: number): Promise<Page<StoredArtifact>> {
    return this.reads.run('queryArtifacts', [q, now]);
  }

  async deleteArtifact(id: string, now: number): Promise<RemovedArtifact> {
    return this.batch.run(() => {
      const { row, unreferenced } = this.writes.remove(id, now);
      const artifact = toArtifact(row);
      appendEvent(this.db, 'artifact.deleted', artifact.session, artifactEventData(artifact));
      return { artifact, blobUnreferenced: unreferenced };
    });
  }

  async derivedFrom(id: string, now: number): Promise<StoredArtifact[]> {
    return this.reads.run('derivedFrom', [id, now]);
  }

  async blobRefs(sha256: string): Promise<number> {
    return this.local.blobRefs(sha256);
  }

  async *listBlobs(): AsyncIterable<{ sha256: string; size: number; refs: number }> {
    yield* this.local.listBlobs();
  }

  async addToken(t: TokenRow): Promise<void> {
    return this.tokenRows.add(t);
  }

  async findToken(hash: string, now: number): Promise<TokenRow | null> {
    return this.tokenRows.find(hash, now);
  }

  async listTokens(): Promise<StoredToken[]> {
    return this.tokenRows.list();
  }

  async deleteToken(id: string): Promise<void> {
    return this.tokenRows.delete(id);
  }

  async countTokens(scope?: Scope): Promise<number> {
    return this.tokenRows.count(scope);
  }

  async ping(): Promise<void> {
    // Reads the database header in a read transaction: the file, not just the connection.
    this.db.pragma('schema_version');
  }

  async close(): Promise<void> {
    this.events.close();
    await this.reads.close();
    await this.batch.drain();
    await this.checkpointer?.close();
    if (this.db.open) this.db.close();
    this.walSync?.close();
  }
}
