import type { ArtifactQuery, Page, Scope, SessionQuery } from '../core/types.js';
import type { StoredArtifact, StoredSession, StoredToken } from './stored-rows.js';
import type { Meta } from '../core/validate.js';
import type { Coordinator } from '../core/coordinator.js';
import type { SmallBlobStore } from '../blobs/small-blob-store.js';
import type { ArtifactaCatalog } from './artifacta-catalog.js';
import type { AuditCatalog } from './audit-catalog.js';
import type { ImportCatalog } from './import-catalog.js';
import type { StatsCatalog } from './stats-catalog.js';
import type { RetentionCatalog } from './retention-catalog.js';
import type { ShareCatalog } from './share-catalog.js';
import type { LeaseCatalog } from './lease-catalog.js';
import type { InlinePushCatalog } from './inline-push-catalog.js';
import type { IdempotencyCatalog } from './idempotency-catalog.js';
import type { SecretCatalog } from './secret-catalog.js';
import type { EventCatalog } from './event-catalog.js';
import type { DumpCatalog } from './dump-catalog.js';

export type { IdempotentAnswer } from './idempotency-catalog.js';
export type { StoredArtifact, StoredSession, StoredToken } from './stored-rows.js';

/** What {@link Catalog.addArtifact} stores. Times are epoch milliseconds. */
export interface NewArtifact {
  id: string;
  session: string;
  name: string;
  sha256: string;
  size: number;
  contentType: string;
  meta: Meta;
  createdAt: number;
  expiresAt: number | null;
  derivedFrom: string[];
  /**
   * A glob over session ids, or null: each `derivedFrom` parent must be live in a session it
   * matches, else it counts as unknown (the pusher's token reads only those sessions).
   */
  parentSessions?: string | null;
  /** Expiry to give the session if this push creates it. */
  sessionExpiresAt: number | null;
  /** The caller's blob lease (see LeaseCatalog), given back in the same transaction. */
  leaseId?: string;
  /**
   * Whether the store held the bytes before this push: added to the `artifact.created`
   * event's data when given (the row returned does not have it).
   */
  deduplicated?: boolean;
}

/** A stored share link (the secret itself is never stored). */
export interface ShareRow {
  id: string;
  tokenHash: string;
  artifactId: string | null;
  sessionId: string | null;
  createdAt: number;
  expiresAt: number;
  maxDownloads: number | null;
  downloads: number;
  lastAccessAt: number | null;
  revokedAt: number | null;
}

/** A stored token, with its hash, as the authenticator needs it. */
export interface TokenRow extends StoredToken {
  hash: string;
}

/** Result of removing an artifact: the blob it referenced and whether anything else still does. */
export interface RemovedArtifact {
  artifact: StoredArtifact;
  blobUnreferenced: boolean;
}

/**
 * What a catalog backend offers beyond the {@link Catalog} methods. A member is absent when the
 * backend lacks it, and the wiring (createApp) does without: callers ask here, never by testing
 * for a concrete class.
 */
export interface CatalogCapabilities {
  /**
   * Small blobs stored in the catalog's own database, committed with its rows (the inline tier
   * of TieredBlobStore). Absent: every blob goes to the blob store.
   */
  readonly inlineBlobs?: SmallBlobStore;
  /**
   * Small pushes in one transaction: bytes for `inlineBlobs` written with their row (see
   * InlinePushCatalog). Absent: core leases, commits the bytes, then adds the row.
   */
  readonly inlinePush?: InlinePushCatalog;
  /**
   * Leadership among the nodes sharing this catalog (who runs the sweeper). Absent: the catalog
   * is used by one process only (SQLite) and a LocalCoordinator, always leader, is used.
   */
  readonly coordinator?: Coordinator;
}

/**
 * The catalog: sessions, artifacts, metadata, blob reference counts, tokens, share links.
 *
 * Contract for every implementation (checked by test/conformance/catalog-suite.ts, also with
 * two instances over one store, as several processes or nodes would share it):
 * - Reads and writes return the catalog's own rows (StoredArtifact, StoredSession,
 *   StoredToken: epoch-ms times, parsed values), never API records: core formats those, once
 *   for every backend (core/records.ts).
 * - Every method is atomic, and correct when other writers interleave: nothing relies on a
 *   lock or state inside one process.
 * - `addArtifact` creates the session when missing, takes the next version for the name from
 *   a counter kept per (session, name) (two concurrent pushes of one name get two consecutive
 *   numbers; a number is never given twice, even after its row was deleted or expired), adds
 *   one reference to the blob (BlobCollectedError if its row is marked for collection: hold a
 *   lease, see LeaseCatalog), gives back `leaseId`, and updates the session's counters, in one
 *   transaction; it throws SessionSealedError if the session is sealed and
 *   InvalidInputError(`invalid_derived_from`) for an unknown id in `derivedFrom`.
 * - A blob reference is given back only for an artifact row the removal itself deleted (e.g.
 *   `DELETE … RETURNING`), in every path that removes rows (delete, session delete, sweep,
 *   prune, purge of an expired session), so references always equal the live rows even when
 *   two removals of the same row race. Removing rows never removes bytes.
 * - Writes that change what clients watch append their events (see EventCatalog) in their own
 *   transaction: `addArtifact`/`addArtifacts` one `artifact.created` per row (data: the row's
 *   API record, see event-payload.ts, plus `deduplicated` when given), `deleteArtifact`
 *   `artifact.deleted` (the record),
 *   `sealSession` `session.sealed` (the sealed record; only when it seals now); retention and
 *   imports say theirs (RetentionCatalog, ImportCatalog). A write that fails appends nothing.
 * - Once a write method resolves, the write is durable to the level the catalog was opened with.
 * - Reads never return artifacts or sessions that expired before `now`.
 * - Lookups of a missing thing return `null`; they do not throw.
 */
export interface Catalog {
  /** What this backend offers beyond these methods (see CatalogCapabilities). */
  readonly capabilities: CatalogCapabilities;
  /** Expiry sweeps, session deletion and keep-last-N pruning (see RetentionCatalog). */
  readonly retention: RetentionCatalog;
  /** Share links (see ShareCatalog). */
  readonly shares: ShareCatalog;
  /** Artifacta's ids paired with Cairn's, for its compatible API (see ArtifactaCatalog). */
  readonly artifacta: ArtifactaCatalog;
  /** Consistency checks, repairs and online snapshots (fsck, backup; see AuditCatalog). */
  readonly audit: AuditCatalog;
  /** Recreating exported sessions whole, atomically (see ImportCatalog). */
  readonly imports: ImportCatalog;
  /** Counts for metrics (see StatsCatalog). */
  readonly stats: StatsCatalog;
  /** Blob leases and collection marks: GC against pushes of the same bytes (see LeaseCatalog). */
  readonly leases: LeaseCatalog;
  /** Idempotency keys as claims with a lease (see IdempotencyCatalog). */
  readonly idempotency: IdempotencyCatalog;
  /** Seal key and bootstrap admin token, claimed once by the first node (see SecretCatalog). */
  readonly secrets: SecretCatalog;
  /** The event stream, written by the writes below in their own transactions (see EventCatalog). */
  readonly events: EventCatalog;
  /**
   * The whole catalog read out and written back in a backend-neutral shape: logical backups
   * and `cairn migrate` (see DumpCatalog). Absent in a backend that does not offer it yet;
   * backup, restore and migrate then refuse with `dump_unsupported`.
   */
  readonly dump?: DumpCatalog;
  /**
   * Creates a session; throws ConflictError(`session_exists`) if it exists. An expired session
   * with the same id is removed first, so the id starts afresh.
   */
  createSession(s: {
    id: string;
    meta: Meta;
    expiresAt: number | null;
    keepVersions?: number | null;
    now: number;
  }): Promise<StoredSession>;
  /** One session, or null if unknown or expired. */
  getSession(id: string, now: number): Promise<StoredSession | null>;
  /** Sessions newest first. */
  listSessions(q: SessionQuery, now: number): Promise<Page<StoredSession>>;
  /**
   * Changes an open session's meta/expiry/keep-last-N (pinning works sealed too); throws
   * NotFoundError, SessionSealedError. Pinning removes the rows already expired, in the same
   * transaction (see isArtifactLive in core/lifecycle.ts).
   */
  updateSession(
    id: string,
    patch: {
      meta?: Meta;
      expiresAt?: number | null;
      keepVersions?: number | null;
      pinned?: boolean;
    },
    now: number,
  ): Promise<StoredSession>;
  /**
   * Seals a session with the digest computed from exactly the artifacts it returns to
   * `computeSeal`, inside one transaction; returns the stored row unchanged if already
   * sealed. Throws NotFoundError. From then on the session expires whole: at its own expiry,
   * or (without one) when the longest-lived of its artifacts would have.
   */
  sealSession(
    id: string,
    now: number,
    computeSeal: (artifacts: StoredArtifact[]) => { digest: string; signature: string },
  ): Promise<StoredSession>;
  /** Every live artifact of a session (all versions), sorted by name then version. */
  sessionArtifacts(id: string, now: number): Promise<StoredArtifact[]>;
  /**
   * Optional, for `GET /v1/sessions/{sid}/latest`: up to `limit` of the session's latest live
   * versions (those `latest` queries return) whose names sort after `after` (byte order), in
   * name order, as `SHA256 NAME\n` lines. Without it the route pages through queryArtifacts.
   */
  latestLines?(id: string, now: number, after: string, limit: number): Promise<string>;

  /** Adds an artifact; see the interface contract. */
  addArtifact(a: NewArtifact): Promise<StoredArtifact>;
  /**
   * Adds several artifacts in one transaction, in order, each as {@link addArtifact} would:
   * all are visible at once or, if any fails (sealed session, bad lineage), none is and the
   * error of the first failing one is thrown. Rows come back in the order given.
   */
  addArtifacts(list: NewArtifact[]): Promise<StoredArtifact[]>;
  /** One artifact by id, or null. */
  getArtifact(id: string, now: number): Promise<StoredArtifact | null>;
  /** The latest (or given) version of a name in a session, or null. */
  findArtifact(
    session: string,
    name: string,
    version: number | undefined,
    now: number,
  ): Promise<StoredArtifact | null>;
  /** Artifacts newest first, filtered by `q`. */
  queryArtifacts(q: ArtifactQuery, now: number): Promise<Page<StoredArtifact>>;
  /**
   * Removes a live artifact from an open session; throws NotFoundError (also if it expired,
   * swept or not), SessionSealedError.
   */
  deleteArtifact(id: string, now: number): Promise<RemovedArtifact>;
  /** Artifacts that list `id` in derived_from. */
  derivedFrom(id: string, now: number): Promise<StoredArtifact[]>;

  /** Number of live artifacts that reference a blob. */
  blobRefs(sha256: string): Promise<number>;
  /** Every blob the catalog knows with its reference count and size. */
  listBlobs(): AsyncIterable<{ sha256: string; size: number; refs: number }>;

  /** Stores a token by hash. */
  addToken(t: TokenRow): Promise<void>;
  /** The token with this hash, or null. Updates its last use. */
  findToken(hash: string, now: number): Promise<TokenRow | null>;
  listTokens(): Promise<StoredToken[]>;
  /** Deletes a token; throws NotFoundError. */
  deleteToken(id: string): Promise<void>;
  /** Number of tokens of this scope. */
  countTokens(scope?: Scope): Promise<number>;

  /**
   * Resolves once the catalog answered a trivial query (SQLite: `PRAGMA schema_version`; PostgreSQL: `SELECT 1`);
   * rejects with the error otherwise. What `/healthz` asks; cheap, reads no table.
   */
  ping(): Promise<void>;

  /** Closes the catalog; further calls fail. */
  close(): Promise<void>;
}
