import type { DumpKind } from '../lib/dump-kinds.js';

export type { DumpKind };

/** A blob the catalog references (`refs` > 0): unreferenced rows are garbage, never dumped. */
export interface DumpBlob {
  sha256: string;
  size: number;
  refs: number;
}

/** A session exactly as stored: counters as kept (a sealed one counts its manifest). */
export interface DumpSession {
  id: string;
  meta: Record<string, string>;
  created_at: number;
  updated_at: number;
  /** The session's own expiry (null: none). */
  expires_at: number | null;
  pinned: boolean;
  sealed_at: number | null;
  digest: string | null;
  signature: string | null;
  keep_versions: number | null;
  artifact_count: number;
  total_bytes: number;
  /** The foreign key that signed an imported seal (null: the store's own seal key). */
  seal_key: { key_id: string; public_key_pem: string } | null;
}

/** An artifact row as stored, expired-but-not-yet-swept ones included. */
export interface DumpArtifact {
  id: string;
  session: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  content_type: string;
  meta: Record<string, string>;
  created_at: number;
  /** The artifact's own expiry, not the one its session gives it (null: none). */
  expires_at: number | null;
  /** Whether it is the newest row of its name (as stored). */
  latest: boolean;
  derived_from: string[];
}

/** The highest version a name was ever given (never given again). */
export interface DumpVersionCounter {
  session: string;
  name: string;
  version: number;
}

/** An API token: only its hash, as stored. */
export interface DumpToken {
  id: string;
  name: string;
  hash: string;
  scope: string;
  sessions: string | null;
  created_at: number;
  last_used_at: number | null;
}

/** A share link: only its secret's hash, with its counts. */
export interface DumpShare {
  id: string;
  token_hash: string;
  artifact_id: string | null;
  session_id: string | null;
  session_created_at: number | null;
  created_at: number;
  expires_at: number;
  max_downloads: number | null;
  downloads: number;
  last_access_at: number | null;
  revoked_at: number | null;
  created_by: string | null;
}

/** An Artifacta id paired with Cairn's (see ArtifactaCatalog); opaque fields as stored. */
export interface DumpArtifactaId {
  id: string;
  kind: string;
  cairn_id: string | null;
  expires_at: number | null;
  deleted_at: number | null;
  upload: string | null;
  page: string | null;
}

/** A published Artifacta page: its secret and the id it serves. */
export interface DumpArtifactaPage {
  secret: string;
  artifacta_id: string;
}

/** A finished idempotent answer (pending claims are a process's state, never dumped). */
export interface DumpIdempotency {
  key: string;
  status: number;
  body: string;
  created_at: number;
  request: string | null;
}

/**
 * A secret every node sharing the catalog holds alike (see SecretCatalog): the seal key and the
 * bootstrap admin token claim, as stored, so a restored store starts with the same ones.
 */
export interface DumpSecret {
  name: string;
  value: string;
}

/** The row type of each kind. */
export interface DumpRows {
  blobs: DumpBlob;
  sessions: DumpSession;
  artifacts: DumpArtifact;
  version_counters: DumpVersionCounter;
  tokens: DumpToken;
  shares: DumpShare;
  artifacta_ids: DumpArtifactaId;
  artifacta_pages: DumpArtifactaPage;
  idempotency: DumpIdempotency;
  secrets: DumpSecret;
}

/** A row of any kind. */
export type DumpRow = DumpRows[DumpKind];

/** One page of {@link DumpReader.readAll}: rows, and the cursor of the next page (null: done). */
export interface DumpPage<K extends DumpKind> {
  rows: DumpRows[K][];
  cursor: string | null;
}

/**
 * A consistent snapshot of the whole catalog, read page by page. Every page of every kind
 * comes from the same point in time, whatever writers do meanwhile.
 */
export interface DumpReader {
  /** How many rows each kind holds in the snapshot. */
  counts(): Promise<Record<DumpKind, number>>;
  /**
   * Up to `limit` rows of `kind` after `cursor` (null: from the start), in a stable order:
   * sessions and artifacts in creation order (the order listings use, so a restore that
   * writes them in this order keeps listings in order), the others by their key. The cursor is
   * opaque and valid for this reader only.
   */
  readAll<K extends DumpKind>(kind: K, cursor: string | null, limit: number): Promise<DumpPage<K>>;
  /** Ends the snapshot. Idempotent. */
  close(): Promise<void>;
}

/**
 * Writes a dump into an empty catalog, all or nothing: nothing is visible to any reader until
 * {@link commit} resolves, and a crash or {@link abort} before then leaves the catalog as
 * empty as it was.
 */
export interface DumpWriter {
  /**
   * Adds rows of `kind`, as read from a {@link DumpReader}: kinds in {@link DUMP_KINDS} order,
   * rows of a kind in the order they were read. Rows are stored as given (counters, flags,
   * seals, signatures, hashes: nothing recomputed), so the restored catalog dumps the same.
   * Throws InvalidInputError(`invalid_backup`) for a row that refers to a missing one (an
   * artifact of an unknown session, a blob without its row).
   */
  write<K extends DumpKind>(kind: K, rows: DumpRows[K][]): Promise<void>;
  /** Makes everything written visible at once, durably. */
  commit(): Promise<void>;
  /** Drops everything written. Idempotent; a no-op after commit. */
  abort(): Promise<void>;
}

/**
 * Reading the whole catalog out and writing it back in, in the backend-neutral shape above,
 * so a store moves between backends (`cairn migrate`) and backups restore into any of them.
 *
 * What an implementation must do (SQLite: src/catalog/sqlite/sqlite-dump.ts):
 * - `open` takes a consistent snapshot while other writers go on: SQLite reads in one read
 *   transaction on its own connection (WAL keeps the snapshot); PostgreSQL must use one
 *   connection in a `REPEATABLE READ READ ONLY` transaction for the reader's whole life.
 * - `restore` checks, inside its transaction, that the catalog holds no row of any kind
 *   (ConflictError(`catalog_not_empty`) otherwise), then writes everything in that one
 *   transaction (PostgreSQL: one client, `BEGIN` … `COMMIT`), so a crash midway leaves the
 *   catalog empty and a second run can start again. Bytes are never part of it: small blobs a
 *   catalog keeps itself arrive through the blob store, before the restore starts.
 * - A dump of a restored catalog equals the dump it was restored from, row for row.
 */
export interface DumpCatalog {
  /** A consistent snapshot to read (see {@link DumpReader}). */
  open(): Promise<DumpReader>;
  /** Starts an atomic restore into this (empty) catalog (see {@link DumpWriter}). */
  restore(): Promise<DumpWriter>;
}
