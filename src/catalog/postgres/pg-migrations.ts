import { PUSH_FUNCTIONS } from './pg-push-functions.js';
import { INLINE_PUSH_FUNCTION } from './pg-inline-push-function.js';

/** Text compared or ordered by the catalog: byte order, as SQLite's BINARY collation. */
const T = 'TEXT COLLATE "C"';

/**
 * The PostgreSQL schema as versioned migrations, mirroring SQLite's tables and columns (see
 * sqlite/migrations.ts; epoch ms and counts as BIGINT, inline blobs as BYTEA, compared text in
 * byte order). Version 1 is SQLite's schema 10. Never edit a released migration: append.
 */
export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE sessions (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT,
    pinned INTEGER NOT NULL DEFAULT 0,
    sealed_at BIGINT,
    digest TEXT,
    signature TEXT,
    artifact_count BIGINT NOT NULL DEFAULT 0,
    total_bytes BIGINT NOT NULL DEFAULT 0,
    keep_versions INTEGER
  );
  CREATE INDEX sessions_expires ON sessions(expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE session_meta (
    key ${T} NOT NULL,
    value ${T} NOT NULL,
    session_seq BIGINT NOT NULL REFERENCES sessions(seq) ON DELETE CASCADE,
    PRIMARY KEY (key, value, session_seq)
  );
  CREATE INDEX session_meta_owner ON session_meta(session_seq);

  CREATE TABLE blobs (
    sha256 ${T} PRIMARY KEY,
    size BIGINT NOT NULL,
    refs BIGINT NOT NULL,
    gc_mark BIGINT
  );
  CREATE INDEX blobs_unreferenced ON blobs(refs) WHERE refs <= 0;

  CREATE TABLE artifacts (
    seq BIGSERIAL PRIMARY KEY,
    id ${T} NOT NULL UNIQUE,
    session_seq BIGINT NOT NULL REFERENCES sessions(seq),
    name ${T} NOT NULL,
    version BIGINT NOT NULL,
    sha256 ${T} NOT NULL REFERENCES blobs(sha256),
    size BIGINT NOT NULL,
    content_type ${T} NOT NULL,
    meta TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    is_latest INTEGER NOT NULL,
    UNIQUE (session_seq, name, version)
  );
  CREATE INDEX artifacts_created ON artifacts(created_at);
  CREATE INDEX artifacts_expires ON artifacts(expires_at) WHERE expires_at IS NOT NULL;
  CREATE INDEX artifacts_sha ON artifacts(sha256);
  CREATE INDEX artifacts_media_type ON artifacts(
    lower(trim(substr(content_type, 1, strpos(content_type || ';', ';') - 1))));

  CREATE TABLE artifact_meta (
    key ${T} NOT NULL,
    value ${T} NOT NULL,
    artifact_seq BIGINT NOT NULL REFERENCES artifacts(seq) ON DELETE CASCADE,
    PRIMARY KEY (key, value, artifact_seq)
  );
  CREATE INDEX artifact_meta_owner ON artifact_meta(artifact_seq);

  CREATE TABLE lineage (
    child_seq BIGINT NOT NULL REFERENCES artifacts(seq) ON DELETE CASCADE,
    parent_id ${T} NOT NULL,
    PRIMARY KEY (child_seq, parent_id)
  );
  CREATE INDEX lineage_parent ON lineage(parent_id);

  CREATE TABLE tokens (
    id ${T} PRIMARY KEY,
    name TEXT NOT NULL,
    hash ${T} NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    sessions TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
  );

  CREATE TABLE idempotency (
    key ${T} PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    request TEXT,
    holder TEXT,
    lease_until BIGINT
  );
  CREATE INDEX idempotency_created ON idempotency(created_at);

  CREATE TABLE shares (
    id ${T} PRIMARY KEY,
    token_hash ${T} NOT NULL UNIQUE,
    artifact_id TEXT,
    session_id ${T},
    session_created_at BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_downloads BIGINT,
    downloads BIGINT NOT NULL DEFAULT 0,
    last_access_at BIGINT,
    revoked_at BIGINT,
    created_by TEXT
  );
  CREATE INDEX shares_created ON shares(created_at);

  CREATE TABLE session_seal_keys (
    session_seq BIGINT PRIMARY KEY REFERENCES sessions(seq) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL
  );

  CREATE TABLE inline_blobs (
    sha256 ${T} PRIMARY KEY,
    data BYTEA NOT NULL,
    seq BIGSERIAL NOT NULL UNIQUE
  );

  CREATE TABLE version_counters (
    session_seq BIGINT NOT NULL REFERENCES sessions(seq) ON DELETE CASCADE,
    name ${T} NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (session_seq, name)
  );

  CREATE TABLE blob_leases (
    id ${T} NOT NULL,
    sha256 ${T} NOT NULL,
    until BIGINT NOT NULL,
    PRIMARY KEY (sha256, id)
  );
  CREATE INDEX blob_leases_id ON blob_leases(id);

  CREATE TABLE artifacta_ids (
    id ${T} PRIMARY KEY,
    kind TEXT NOT NULL,
    cairn_id ${T},
    expires_at BIGINT,
    deleted_at BIGINT,
    upload TEXT,
    page TEXT
  );
  CREATE UNIQUE INDEX artifacta_ids_cairn ON artifacta_ids(cairn_id) WHERE cairn_id IS NOT NULL;
  CREATE TABLE artifacta_pages (
    secret ${T} PRIMARY KEY,
    artifacta_id ${T} NOT NULL UNIQUE
  );

  -- where=: text that reads as a number, as a double (what SQLite's CAST(x AS REAL) gives:
  -- past the double range it is +-Infinity, below it 0; float8 itself would refuse those).
  CREATE FUNCTION cairn_num(t text) RETURNS float8 LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE WHEN n >= 1.7976931348623158079e308 THEN 'Infinity'::float8
                WHEN n <= -1.7976931348623158079e308 THEN '-Infinity'::float8
                WHEN abs(n) < 2.4703282292062328e-324 THEN 0::float8
                ELSE n::float8 END
    FROM (SELECT t::numeric AS n) x
  $$;
  `,
  // 2: SQLite's 11 and 12. Secrets claimed once by the first node (see SecretCatalog); a store
  // whose admin token predates this gets an empty `admin_token` claim (nothing to mirror).
  // The event stream (see EventCatalog and pg-events.ts): a row is written with its writer's
  // transaction id and gets its stream position `pos` from a reader (cairn_events_promote,
  // replaced by migration 3); `events_head` is the newest
  // position given, `events_trimmed` the newest trimmed. Each insert rings the doorbell
  // (NOTIFY, delivered at commit).
  `
  CREATE TABLE secrets (
    name ${T} PRIMARY KEY,
    value TEXT NOT NULL
  );
  INSERT INTO secrets (name, value)
    SELECT 'admin_token', '' WHERE EXISTS (SELECT 1 FROM tokens WHERE scope = 'admin');

  CREATE TABLE events (
    seq BIGSERIAL PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    pos BIGINT UNIQUE,
    type TEXT NOT NULL,
    session TEXT NOT NULL,
    data TEXT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX events_pending ON events (xid, seq) WHERE pos IS NULL;
  CREATE TABLE events_head (one INTEGER PRIMARY KEY CHECK (one = 1), pos BIGINT NOT NULL);
  INSERT INTO events_head VALUES (1, 0);
  CREATE TABLE events_trimmed (one INTEGER PRIMARY KEY CHECK (one = 1), through BIGINT NOT NULL);
  INSERT INTO events_trimmed VALUES (1, 0);

  CREATE FUNCTION cairn_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('cairn_events', '');
    RETURN NULL;
  END $$;
  CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_events_notify();

  -- Numbers the rows below the horizon (xid older than every transaction still running, so
  -- no row can commit below them any more) in (xid, seq) order, under an advisory lock, each
  -- statement with a fresh snapshot (READ COMMITTED; run it alone, not in a transaction).
  -- Returns how many rows still wait (committed above the horizon, or not committed yet).
  CREATE FUNCTION cairn_events_promote() RETURNS bigint LANGUAGE plpgsql AS $$
  DECLARE waiting bigint;
  BEGIN
    IF EXISTS (SELECT 1 FROM events
               WHERE pos IS NULL AND xid < pg_snapshot_xmin(pg_current_snapshot())) THEN
      PERFORM pg_advisory_xact_lock(7161120822691458149);
      WITH todo AS (
        SELECT seq, row_number() OVER (ORDER BY xid, seq) AS n FROM events
        WHERE pos IS NULL AND xid < pg_snapshot_xmin(pg_current_snapshot())
      ), head AS (
        UPDATE events_head SET pos = pos + (SELECT count(*) FROM todo)
        RETURNING pos - (SELECT count(*) FROM todo) AS base
      )
      UPDATE events e SET pos = head.base + todo.n FROM todo, head WHERE e.seq = todo.seq;
    END IF;
    SELECT count(*) INTO waiting FROM (SELECT 1 FROM events WHERE pos IS NULL LIMIT 1000) w;
    RETURN waiting;
  END $$;
  `,
  // 3: Rows are numbered as soon as their transaction has committed, with no horizon. The
  // numbers come from the promoter alone, under its advisory lock, so they only ever grow; a
  // late commit gets a later number, never an earlier one, and nothing is skipped. The old
  // horizon (xid below every running transaction of the cluster) let a transaction left open
  // anywhere, even in another database, hold back every event after it.
  `
  CREATE OR REPLACE FUNCTION cairn_events_promote() RETURNS bigint LANGUAGE plpgsql AS $$
  DECLARE numbered bigint;
  BEGIN
    IF NOT EXISTS (SELECT 1 FROM events WHERE pos IS NULL) THEN RETURN 0; END IF;
    PERFORM pg_advisory_xact_lock(7161120822691458149);
    -- A fresh snapshot (READ COMMITTED), taken after the previous promoter committed.
    WITH todo AS (
      SELECT seq, row_number() OVER (ORDER BY xid, seq) AS n FROM events WHERE pos IS NULL
    ), head AS (
      UPDATE events_head SET pos = pos + (SELECT count(*) FROM todo)
      RETURNING pos - (SELECT count(*) FROM todo) AS base
    )
    UPDATE events e SET pos = head.base + todo.n FROM todo, head WHERE e.seq = todo.seq;
    GET DIAGNOSTICS numbered = ROW_COUNT;
    RETURN numbered;
  END $$;
  `,
  // 4: An artifact's metadata as one array of `key=value` pairs (keys hold no '='), under a
  // GIN index, so an AND of equalities is one index scan intersecting the pairs' posting lists
  // (see pg-artifact-query.ts). Filled by a trigger from the artifact_meta rows each statement
  // adds, so every path that writes artifact_meta keeps it (push, import, restore, migrate);
  // metadata is removed only with its artifact (cascade). fastupdate off: no pending list for
  // queries to read past.
  `
  CREATE TABLE artifact_pairs (
    artifact_seq BIGINT PRIMARY KEY REFERENCES artifacts(seq) ON DELETE CASCADE,
    pairs TEXT[] COLLATE "C" NOT NULL
  );
  INSERT INTO artifact_pairs (artifact_seq, pairs)
    SELECT artifact_seq, array_agg(key || '=' || value) FROM artifact_meta GROUP BY artifact_seq;
  CREATE INDEX artifact_pairs_gin ON artifact_pairs USING gin (pairs) WITH (fastupdate = off);

  CREATE FUNCTION cairn_artifact_pairs_add() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO artifact_pairs (artifact_seq, pairs)
      SELECT artifact_seq, array_agg(key || '=' || value) FROM cairn_added GROUP BY artifact_seq
    ON CONFLICT (artifact_seq) DO UPDATE SET pairs = artifact_pairs.pairs || excluded.pairs;
    RETURN NULL;
  END $$;
  CREATE TRIGGER artifact_pairs_add AFTER INSERT ON artifact_meta
    REFERENCING NEW TABLE AS cairn_added
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_artifact_pairs_add();

  -- Up to \`cap\` artifacts below \`below\` holding every one of \`want\`, in no order. Only a
  -- bitmap scan of the GIN index answers this in bounded time: the planner, guessing common
  -- pairs independent, would walk the primary key past every row when they never meet, or
  -- (planning for any \`below\`) AND the GIN bitmap with one of the key's range (+ 0 stops it).
  CREATE FUNCTION cairn_pairs_owners(want text[], below bigint, cap integer)
    RETURNS SETOF bigint LANGUAGE sql STABLE
    SET enable_seqscan = off SET enable_indexscan = off AS $$
    SELECT artifact_seq FROM artifact_pairs WHERE pairs @> want AND artifact_seq + 0 < below LIMIT cap
  $$;
  `,
  // 5: a push in one round trip per catalog call (see pg-push-functions.ts).
  PUSH_FUNCTIONS,
  // 6: unreferenced blobs in sha256 order, so a sweep walks them with a cursor (past rows that
  // leases keep) without sorting them all for every batch.
  `
  CREATE INDEX IF NOT EXISTS blobs_unreferenced_sha ON blobs (sha256) WHERE refs <= 0;
  `,
  // 7: a small push in one transaction, its bytes with its row (see pg-inline-push-function.ts).
  INLINE_PUSH_FUNCTION,
];
