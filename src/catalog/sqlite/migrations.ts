import type Database from 'better-sqlite3';

/**
 * Versioned schema migrations. Each entry runs once, in order, inside a transaction, and
 * `PRAGMA user_version` records how many have run. Never edit a released migration: append.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE sessions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER,
    pinned INTEGER NOT NULL DEFAULT 0,
    sealed_at INTEGER,
    digest TEXT,
    signature TEXT,
    artifact_count INTEGER NOT NULL DEFAULT 0,
    total_bytes INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX sessions_expires ON sessions(expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE session_meta (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    session_seq INTEGER NOT NULL REFERENCES sessions(seq) ON DELETE CASCADE,
    PRIMARY KEY (key, value, session_seq)
  ) WITHOUT ROWID;
  CREATE INDEX session_meta_owner ON session_meta(session_seq);

  CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    refs INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE artifacts (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_seq INTEGER NOT NULL REFERENCES sessions(seq),
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    meta TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    is_latest INTEGER NOT NULL,
    UNIQUE (session_seq, name, version)
  );
  CREATE INDEX artifacts_created ON artifacts(created_at);
  CREATE INDEX artifacts_expires ON artifacts(expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX artifacts_sha ON artifacts(sha256);
  CREATE INDEX artifacts_type ON artifacts(content_type);

  CREATE TABLE artifact_meta (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    artifact_seq INTEGER NOT NULL REFERENCES artifacts(seq) ON DELETE CASCADE,
    PRIMARY KEY (key, value, artifact_seq)
  ) WITHOUT ROWID;
  CREATE INDEX artifact_meta_owner ON artifact_meta(artifact_seq);

  CREATE TABLE lineage (
    child_seq INTEGER NOT NULL REFERENCES artifacts(seq) ON DELETE CASCADE,
    parent_id TEXT NOT NULL,
    PRIMARY KEY (child_seq, parent_id)
  ) WITHOUT ROWID;
  CREATE INDEX lineage_parent ON lineage(parent_id);

  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    sessions TEXT,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );

  CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX idempotency_created ON idempotency(created_at);
  `,
  // 2: retention and sharing (issue 3): per-session keep-last-N, unreferenced-blob index for
  // the sweeper, share links (only the sha256 of a link's secret is stored).
  `
  ALTER TABLE sessions ADD COLUMN keep_versions INTEGER;
  CREATE INDEX blobs_unreferenced ON blobs(refs) WHERE refs <= 0;

  CREATE TABLE shares (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    artifact_id TEXT,
    session_id TEXT,
    session_created_at INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_downloads INTEGER,
    downloads INTEGER NOT NULL DEFAULT 0,
    last_access_at INTEGER,
    revoked_at INTEGER,
    created_by TEXT
  );
  CREATE INDEX shares_created ON shares(created_at);
  `,
  // 3: imported sessions (issue 4): the foreign public key that signed an imported seal, so the
  // session keeps verifying after it moved servers.
  `
  CREATE TABLE session_seal_keys (
    session_seq INTEGER PRIMARY KEY REFERENCES sessions(seq) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL
  );
  `,
  // 4: small blobs kept inline (issue 9): a push of a few KiB costs a row in the group commit
  // instead of a file create, fsync, rename and directory fsync.
  `
  CREATE TABLE inline_blobs (
    sha256 TEXT PRIMARY KEY,
    data BLOB NOT NULL
  );
  `,
  // 5: what an idempotency key was first used for, so a reuse for another request is refused
  // (null for answers stored before: those replay as before).
  `
  ALTER TABLE idempotency ADD COLUMN request TEXT;
  `,
  // 6: type= matches the media type whatever its case and parameters (`Application/JSON;
  // charset=utf-8` is application/json), still in index order: an index on that expression
  // (MEDIA_TYPE in rows.ts, written the same) instead of the raw Content-Type.
  `
  DROP INDEX artifacts_type;
  CREATE INDEX artifacts_media_type ON artifacts(
    lower(trim(substr(content_type, 1, instr(content_type || ';', ';') - 1))));
  `,
  // 7: the highest version a name had when its newest rows were deleted or expired, so a later
  // push never reuses a version number (?version=N always meant the same bytes). Written only
  // when rows go; read by each push with one primary-key lookup.
  `
  CREATE TABLE name_versions (
    session_seq INTEGER NOT NULL REFERENCES sessions(seq) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (session_seq, name)
  ) WITHOUT ROWID;
  `,
  // 8: a sealed session counts what its manifest holds (rows live when it was sealed; the
  // sweep no longer changes its counters). Sessions sealed before counted rows that had already
  // expired, which the sweep used to subtract: recounted once, as a seal now counts.
  `
  UPDATE sessions AS s SET
    artifact_count = (SELECT count(*) FROM artifacts a WHERE a.session_seq = s.seq
      AND (a.expires_at IS NULL OR a.expires_at > s.sealed_at)),
    total_bytes = (SELECT coalesce(sum(a.size), 0) FROM artifacts a WHERE a.session_seq = s.seq
      AND (a.expires_at IS NULL OR a.expires_at > s.sealed_at))
  WHERE s.sealed_at IS NOT NULL;
  `,
  // 9: correct with more than one writer (issue 20). A version counter row per name, bumped
  // with one upsert by every push (never max(version)+1, which two writers can both read),
  // backfilled from the rows and from what migration 7 kept, which it replaces. Blob leases (a
  // push's claim on bytes it relies on) and GC marks, so a collection never races a push of the
  // same bytes on another connection. Idempotency keys as claims with a lease: a pending row
  // (status 0) owned by a holder until it finishes or its lease runs out.
  `
  CREATE TABLE version_counters (
    session_seq INTEGER NOT NULL REFERENCES sessions(seq) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (session_seq, name)
  ) WITHOUT ROWID;
  INSERT INTO version_counters (session_seq, name, version)
    SELECT session_seq, name, max(version) FROM (
      SELECT session_seq, name, version FROM artifacts
      UNION ALL SELECT session_seq, name, version FROM name_versions)
    GROUP BY session_seq, name;
  DROP TABLE name_versions;

  ALTER TABLE blobs ADD COLUMN gc_mark INTEGER;
  CREATE TABLE blob_leases (
    id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (sha256, id)
  ) WITHOUT ROWID;
  CREATE INDEX blob_leases_id ON blob_leases(id);

  ALTER TABLE idempotency ADD COLUMN holder TEXT;
  ALTER TABLE idempotency ADD COLUMN lease_until INTEGER;
  `,
  // 10: Artifacta's ids (art_ + 16, lnk_ + 20)
  // and what only its API has (deleted-id memory, pending two-phase uploads, published pages).
  // Cairn's ids (a_ + 26 ULID characters, 128 bits) do not fit 16 alphanumerics (95 bits), so
  // the two are paired here. IF NOT EXISTS: re-running it over a current schema (a rewound
  // user_version, a renumbering at merge) must not fail.
  `
  CREATE TABLE IF NOT EXISTS artifacta_ids (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    cairn_id TEXT,
    expires_at INTEGER,
    deleted_at INTEGER,
    upload TEXT,
    page TEXT
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS artifacta_ids_cairn ON artifacta_ids(cairn_id) WHERE cairn_id IS NOT NULL;
  CREATE TABLE IF NOT EXISTS artifacta_pages (
    secret TEXT PRIMARY KEY,
    artifacta_id TEXT NOT NULL UNIQUE
  ) WITHOUT ROWID;
  `,
  // 11: secrets every node sharing the catalog holds alike (seal key, bootstrap admin token),
  // claimed once by the first node to start (see SecretCatalog). A store whose admin token
  // predates this gets an empty `admin_token` claim: bootstrapped already, nothing to mirror.
  // IF NOT EXISTS / OR IGNORE: re-running it (a renumbering at merge) must not fail.
  `
  CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO secrets (name, value)
    SELECT 'admin_token', '' WHERE EXISTS (SELECT 1 FROM tokens WHERE scope = 'admin');
  `,
  // 12: the event stream (issue 20), one row per change written in the change's own
  // transaction, so every process sharing the file reads the same events (see EventCatalog).
  // AUTOINCREMENT: an id is never given twice, even once the rows before it were trimmed.
  // `events_trimmed` holds the newest id trimmed, so a reader behind it is told of the gap.
  `
  CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    session TEXT NOT NULL,
    data TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS events_trimmed (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    through INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO events_trimmed (one, through) VALUES (1, 0);
  `,
  // 13: unreferenced blobs in sha256 order, so a sweep walks them with a cursor (past rows
  // that leases keep) without sorting them all for every batch.
  `
  CREATE INDEX IF NOT EXISTS blobs_unreferenced_sha ON blobs(sha256) WHERE refs <= 0;
  `,
];

/**
 * Brings `db` up to the latest schema version; returns the version it started from. Safe with
 * several processes migrating one file at once: each step reads the version and applies the
 * next migration inside one write transaction (BEGIN IMMEDIATE), so every step runs once.
 */
export function migrate(db: Database.Database): number {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const from = version();
  if (from > MIGRATIONS.length) {
    throw new Error(
      `catalog schema version ${from} is newer than this Cairn (${MIGRATIONS.length}); upgrade Cairn`,
    );
  }
  const step = db.transaction((): boolean => {
    const v = version();
    if (v >= MIGRATIONS.length) return false;
    db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${v + 1}`);
    return true;
  });
  while (from < MIGRATIONS.length && step.immediate()) {
    // One migration per transaction, as before.
  }
  return from;
}
