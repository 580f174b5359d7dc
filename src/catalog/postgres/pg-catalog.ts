import type { ArtifactQuery, Page, Scope, SessionQuery } from '../../core/types.js';
import type { StoredArtifact, StoredSession, StoredToken } from '../stored-rows.js';
import type {
  Catalog,
  CatalogCapabilities,
  NewArtifact,
  RemovedArtifact,
  TokenRow,
} from '../catalog.js';
import { page } from '../sqlite/query-sql.js';
import { toArtifact, toSession, type ArtifactRow, type SessionRow } from '../sqlite/rows.js';
import type { NewSession, SessionPatch } from '../sqlite/session-writes.js';
import { PgArtifacta } from './pg-artifacta.js';
import { PgAudit } from './pg-audit.js';
import { PgCoordinator } from './pg-coordinator.js';
import { PgDb } from './pg-db.js';
import { openError } from './pg-errors.js';
import { PgIdempotency } from './pg-idempotency.js';
import { PgImports } from './pg-imports.js';
import { PgInlineBlobs } from './pg-inline-blobs.js';
import { PgPushBatcher } from './pg-push-batcher.js';
import { PgLeases } from './pg-leases.js';
import { migratePg } from './pg-migrate.js';
import { PAIR_LIMITS, queryArtifactRowsPg } from './pg-artifact-query.js';
import { PgMetaBitmaps, type PgMetaBitmapsOptions } from './pg-meta-bitmaps.js';
import { sessionQuerySqlPg } from './pg-query-sql.js';
import { PgRetention } from './pg-retention.js';
import { PgShares } from './pg-shares.js';
import { liveSessionRow, pgSessionWrites, sessionArtifactRows } from './pg-session-writes.js';
import { ARTIFACT_COLUMNS, ARTIFACT_LIVE, NEWEST_LIVE } from './pg-sql.js';
import { PgStats } from './pg-stats.js';
import { PgTokenRows } from './pg-token-rows.js';
import { PgSecrets } from './pg-secrets.js';
import { PgEvents } from './pg-events.js';
import { PgDump } from './pg-dump.js';
import { addArtifactsAlone, deleteWithEvent, sealWithEvent } from './pg-evented-writes.js';

/** How long {@link PgCatalog.ping} waits for its answer. */
const PING_MS = 1000;

/** Options for {@link PgCatalog.open}. */
export interface PgCatalogOptions {
  /** A libpq-style URL: `postgres://user:pass@host:port/db`, `?host=/socket/dir`, `sslmode=`. */
  url: string;
  /** Budget of one query (artifact and session queries, lineage) in ms; default 2000. */
  queryTimeoutMs?: number;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** The metadata bitmaps' budget and catch-up bound (see PgMetaBitmaps; tests tune these). */
  bitmaps?: PgMetaBitmapsOptions;
}

/**
 * Catalog in a PostgreSQL database, shared by any number of nodes. The composition root of the
 * PostgreSQL backend: it opens a pool, migrates the schema (once, under an advisory lock), and
 * delegates each Catalog method to the part that mirrors its SQLite twin. Writes are SERIALIZABLE
 * transactions rerun on conflict (see PgDb.tx); durability is the server's own (its fsync and
 * synchronous_commit settings), so `--durability` does not apply.
 */
export class PgCatalog implements Catalog {
  readonly retention: PgRetention;
  readonly shares: PgShares;
  readonly artifacta: PgArtifacta;
  readonly audit: PgAudit;
  readonly imports: PgImports;
  readonly stats: PgStats;
  readonly leases: PgLeases;
  readonly idempotency: PgIdempotency;
  readonly secrets: PgSecrets;
  readonly events: PgEvents;
  readonly dump: PgDump;
  readonly capabilities: CatalogCapabilities;
  /** This instance's metadata bitmaps for the query planner. Escape hatch: tests only. */
  readonly bitmaps: PgMetaBitmaps;
  private readonly tokens: PgTokenRows;
  private readonly pushes: PgPushBatcher;
  private readonly inline: PgInlineBlobs;

  private constructor(
    /** The pool. Escape hatch: tests only. */
    readonly db: PgDb,
    private readonly budgetMs: number,
    url: string,
    bitmaps: PgMetaBitmapsOptions = {},
  ) {
    this.bitmaps = new PgMetaBitmaps(bitmaps);
    this.retention = new PgRetention(db);
    this.shares = new PgShares(db);
    this.artifacta = new PgArtifacta(db);
    this.audit = new PgAudit(db);
    this.imports = new PgImports(db);
    this.stats = new PgStats(db);
    this.leases = new PgLeases(db);
    this.idempotency = new PgIdempotency(db);
    this.tokens = new PgTokenRows(db);
    this.secrets = new PgSecrets(db);
    this.events = new PgEvents(db, url);
    this.dump = new PgDump(db);
    this.pushes = new PgPushBatcher(db, (list) => addArtifactsAlone(db, list));
    this.inline = new PgInlineBlobs(db);
    this.capabilities = {
      inlineBlobs: this.inline,
      inlinePush: { addInline: (a, bytes, o) => this.pushes.addInline(a, bytes, o.staleMs) },
      coordinator: new PgCoordinator(url),
    };
  }

  /** Connects to `url` and brings its schema up to date; throws if the server is unreachable. */
  static async open(opts: PgCatalogOptions): Promise<PgCatalog> {
    const db = PgDb.connect(opts.url, opts.poolSize);
    try {
      await migratePg(db.pool);
    } catch (err) {
      await db.close();
      throw openError(err, opts.url);
    }
    return new PgCatalog(db, opts.queryTimeoutMs ?? 2000, opts.url, opts.bitmaps);
  }

  async createSession(s: NewSession): Promise<StoredSession> {
    return this.db.tx((t) => pgSessionWrites.create(t, s));
  }

  async getSession(id: string, now: number): Promise<StoredSession | null> {
    const row = await liveSessionRow(this.db, id, now);
    return row ? toSession(row) : null;
  }

  async listSessions(q: SessionQuery, now: number): Promise<Page<StoredSession>> {
    const sql = sessionQuerySqlPg(q, now);
    const rows = await this.db.read(this.budgetMs, (t) => t.all<SessionRow>(sql.text, sql.params));
    return page(rows, q.limit, toSession);
  }

  async updateSession(id: string, patch: SessionPatch, now: number): Promise<StoredSession> {
    return this.db.tx((t) => pgSessionWrites.update(t, id, patch, now), { lock: [`s:${id}`] });
  }

  async sealSession(
    id: string,
    now: number,
    computeSeal: (artifacts: StoredArtifact[]) => { digest: string; signature: string },
  ): Promise<StoredSession> {
    return sealWithEvent(this.db, id, now, computeSeal);
  }

  async sessionArtifacts(id: string, now: number): Promise<StoredArtifact[]> {
    return sessionArtifactRows(this.db, id, now);
  }

  async latestLines(id: string, now: number, after: string, limit: number): Promise<string> {
    const rows = await this.db.read(this.budgetMs, (t) =>
      t.all<{ sha256: string; name: string }>(
        `SELECT a.sha256, a.name FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @id AND a.name > @after AND ${ARTIFACT_LIVE} AND ${NEWEST_LIVE}
         ORDER BY a.name LIMIT @limit`,
        { id, now, after, limit },
      ),
    );
    return rows.map((r) => `${r.sha256} ${r.name}\n`).join('');
  }

  async addArtifact(a: NewArtifact): Promise<StoredArtifact> {
    return (await this.addArtifacts([a]))[0];
  }

  async addArtifacts(list: NewArtifact[]): Promise<StoredArtifact[]> {
    return this.pushes.add(list);
  }

  async getArtifact(id: string, now: number): Promise<StoredArtifact | null> {
    const row = await this.db.get<ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
       WHERE a.id = @id AND ${ARTIFACT_LIVE}`,
      { id, now },
    );
    return row ? toArtifact(row) : null;
  }

  async findArtifact(
    session: string,
    name: string,
    version: number | undefined,
    now: number,
  ): Promise<StoredArtifact | null> {
    const which = version === undefined ? '' : 'AND a.version = @version';
    const row = await this.db.get<ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
       WHERE s.id = @session AND a.name = @name ${which} AND ${ARTIFACT_LIVE}
       ORDER BY a.version DESC LIMIT 1`,
      version === undefined ? { session, name, now } : { session, name, version, now },
    );
    return row ? toArtifact(row) : null;
  }

  async queryArtifacts(q: ArtifactQuery, now: number): Promise<Page<StoredArtifact>> {
    const rows = await this.db.read(this.budgetMs, (t) =>
      queryArtifactRowsPg(t, q, now, PAIR_LIMITS, this.bitmaps),
    );
    return page(rows, q.limit, toArtifact);
  }

  async deleteArtifact(id: string, now: number): Promise<RemovedArtifact> {
    return deleteWithEvent(this.db, id, now);
  }

  async derivedFrom(id: string, now: number): Promise<StoredArtifact[]> {
    const rows = await this.db.read(this.budgetMs, (t) =>
      t.all<ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM lineage l JOIN artifacts a ON a.seq = l.child_seq
         JOIN sessions s ON s.seq = a.session_seq WHERE l.parent_id = @id AND ${ARTIFACT_LIVE} ORDER BY a.seq`,
        { id, now },
      ),
    );
    return rows.map(toArtifact);
  }

  async blobRefs(sha256: string): Promise<number> {
    const row = await this.db.get<{ refs: number }>('SELECT refs FROM blobs WHERE sha256 = $1', [
      sha256,
    ]);
    return row?.refs ?? 0;
  }

  async *listBlobs(): AsyncIterable<{ sha256: string; size: number; refs: number }> {
    // Paged by hash, so no cursor stays open across the caller's awaits.
    for (let after = ''; ;) {
      const rows = await this.audit.blobPage(after, 1000);
      yield* rows;
      if (rows.length < 1000) return;
      after = rows[rows.length - 1].sha256;
    }
  }

  async addToken(t: TokenRow): Promise<void> {
    return this.tokens.add(t);
  }

  async findToken(hash: string, now: number): Promise<TokenRow | null> {
    return this.tokens.find(hash, now);
  }

  async listTokens(): Promise<StoredToken[]> {
    return this.tokens.list();
  }

  async deleteToken(id: string): Promise<void> {
    return this.tokens.delete(id);
  }

  async countTokens(scope?: Scope): Promise<number> {
    return this.tokens.count(scope);
  }

  async ping(): Promise<void> {
    return this.db.ping(PING_MS);
  }

  async close(): Promise<void> {
    // Group-committed writes still queued settle before the pool ends.
    await Promise.all([this.pushes.drain(), this.leases.drain(), this.inline.drain()]);
    await this.events.close();
    await this.capabilities.coordinator?.close();
    await this.db.close();
  }
}
