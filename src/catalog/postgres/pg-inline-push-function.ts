/**
 * Migration 7 of PG_MIGRATIONS (kept here for its size; never edit it: append a new one).
 * `cairn_add_inline` (see PgPushBatcher and InlinePushCatalog): a group of pushes whose small
 * bytes commit in the same transaction as their rows, so such a push is one statement of one
 * group transaction with no lease of its own.
 *
 * Against garbage collection it does what cairn_lease_blobs does for a lease, in the push's own
 * transaction: it takes each inline blob's transaction advisory key `b:<sha256>` (the key
 * markBlob holds around its transaction), in key order and before the sessions' keys
 * cairn_add_artifacts takes (every writer takes `b:` keys before `s:` keys, so no cycle), then
 * reads the marks on a snapshot taken after the keys. A fresh mark (a collector is deleting
 * those bytes right now) refuses the group (CRN00; the push then takes the lease path, which
 * waits the mark out); a stale one is a dead collector's and is taken over. Holding the key
 * until commit, no mark can land between this check and the reference cairn_add_artifacts
 * adds; a mark after commit sees the reference and is refused. The bytes are inserted before
 * the rows; `r_fresh` says whether this group inserted them (the push did not deduplicate).
 *
 * It also replaces migration 5's `cairn_add_artifacts` (same signature and answers, so nodes
 * of the previous release keep calling it) with one that writes a group's metadata and
 * lineage rows in one statement each after its loop, and not at all when the group has none:
 * per push, the old one ran two inserts and fired the artifact_pairs trigger even for a push
 * without metadata.
 */
export const INLINE_PUSH_FUNCTION = `
  CREATE OR REPLACE FUNCTION cairn_add_artifacts(items jsonb) RETURNS TABLE (
    r_seq bigint, r_version bigint, r_pinned integer, r_session_expires_at bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    it jsonb;
    s record;
    v bigint;
    art bigint;
    now_ms bigint;
    n bigint;
    arts bigint[] := '{}';
  BEGIN
    -- Sessions first, in id order (two batches never wait on each other in a cycle); a new
    -- one takes the created_at and expiry of its first push.
    -- The sessions' advisory keys, which SERIALIZABLE writers of a session (seal, delete,
    -- prune, update) take before their snapshot: they wait for this group instead of
    -- rerunning on its row changes until their reruns run out.
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (
      SELECT DISTINCT 's:' || (x->>'session') AS k FROM jsonb_array_elements(items) AS x) q
      ORDER BY k;
    INSERT INTO sessions (id, meta, created_at, updated_at, expires_at)
      SELECT DISTINCT ON (x->>'session') x->>'session', '{}', (x->>'createdAt')::bigint,
        (x->>'createdAt')::bigint, (x->>'sessionExpiresAt')::bigint
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e(x, i)
      ORDER BY x->>'session', i
      ON CONFLICT (id) DO NOTHING;
    PERFORM 1 FROM sessions
      WHERE id IN (SELECT x->>'session' FROM jsonb_array_elements(items) AS x)
      ORDER BY id FOR UPDATE;
    -- One reference per push, each blob row once, in hash order; none on a marked row.
    WITH want AS (
      SELECT x->>'sha256' AS sha, max((x->>'size')::bigint) AS size, count(*) AS refs
      FROM jsonb_array_elements(items) AS x GROUP BY 1
    )
    INSERT INTO blobs AS b (sha256, size, refs) SELECT sha, size, refs FROM want ORDER BY sha
      ON CONFLICT (sha256) DO UPDATE SET refs = b.refs + excluded.refs WHERE b.gc_mark IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n < (SELECT count(DISTINCT x->>'sha256') FROM jsonb_array_elements(items) AS x) THEN
      RAISE EXCEPTION 'a blob is being collected' USING ERRCODE = 'CRN00';
    END IF;
    DELETE FROM blob_leases WHERE id IN (
      SELECT x->>'leaseId' FROM jsonb_array_elements(items) AS x WHERE x ? 'leaseId');
    FOR it IN SELECT x FROM jsonb_array_elements(items) WITH ORDINALITY AS e(x, i) ORDER BY i LOOP
      now_ms := (it->>'createdAt')::bigint;
      SELECT ss.seq, ss.pinned, ss.expires_at, ss.sealed_at INTO s
        FROM sessions ss WHERE ss.id = it->>'session';
      IF NOT FOUND OR s.sealed_at IS NOT NULL
         OR (s.pinned = 0 AND s.expires_at IS NOT NULL AND s.expires_at <= now_ms) THEN
        RAISE EXCEPTION 'session sealed, expired or gone' USING ERRCODE = 'CRN00';
      END IF;
      IF jsonb_array_length(it->'derivedFrom') > 0 AND EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(it->'derivedFrom') AS p(id) WHERE NOT EXISTS (
          SELECT 1 FROM artifacts a JOIN sessions ps ON ps.seq = a.session_seq
          WHERE a.id = p.id
            AND (ps.pinned = 1 OR ((a.expires_at IS NULL OR a.expires_at > now_ms
                   OR (ps.sealed_at IS NOT NULL AND a.expires_at > ps.sealed_at))
                 AND (ps.expires_at IS NULL OR ps.expires_at > now_ms)))
            AND (it->>'re' IS NULL OR ps.id ~ (it->>'re')))) THEN
        RAISE EXCEPTION 'a parent is not live' USING ERRCODE = 'CRN00';
      END IF;
      INSERT INTO version_counters AS c (session_seq, name, version)
        VALUES (s.seq, it->>'name', 1)
        ON CONFLICT (session_seq, name) DO UPDATE SET version = c.version + 1
        RETURNING c.version INTO v;
      IF v > 1 THEN
        UPDATE artifacts SET is_latest = 0
          WHERE session_seq = s.seq AND name = it->>'name' AND is_latest = 1;
      END IF;
      INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta,
          created_at, expires_at, is_latest)
        VALUES (it->>'id', s.seq, it->>'name', v, it->>'sha256', (it->>'size')::bigint,
          it->>'contentType', it->>'meta', now_ms, (it->>'expiresAt')::bigint, 1)
        RETURNING seq INTO art;
      arts := arts || art;
      r_seq := art;
      r_version := v;
      r_pinned := s.pinned;
      r_session_expires_at := s.expires_at;
      RETURN NEXT;
    END LOOP;
    -- Metadata and lineage of the whole group, one statement each and only when there is any
    -- (the metadata insert fires the artifact_pairs trigger once per statement).
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(items) AS x WHERE x->'metaText' <> '{}') THEN
      INSERT INTO artifact_meta (key, value, artifact_seq)
        SELECT m.key, m.value, arts[e.i]
        FROM jsonb_array_elements(items) WITH ORDINALITY AS e(x, i),
          jsonb_each_text(e.x->'metaText') AS m;
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(items) AS x
               WHERE jsonb_array_length(x->'derivedFrom') > 0) THEN
      INSERT INTO lineage (child_seq, parent_id)
        SELECT DISTINCT arts[e.i], p
        FROM jsonb_array_elements(items) WITH ORDINALITY AS e(x, i),
          jsonb_array_elements_text(e.x->'derivedFrom') AS p
        ON CONFLICT DO NOTHING;
    END IF;
    -- Each session's counters once, its updated_at from its last push (as one at a time).
    UPDATE sessions ss SET artifact_count = ss.artifact_count + g.n,
        total_bytes = ss.total_bytes + g.bytes, updated_at = g.last
      FROM (SELECT x->>'session' AS id, count(*) AS n, sum((x->>'size')::bigint) AS bytes,
              (array_agg((x->>'createdAt')::bigint ORDER BY i DESC))[1] AS last
            FROM jsonb_array_elements(items) WITH ORDINALITY AS e(x, i) GROUP BY 1) g
      WHERE ss.id = g.id;
  END $$;

  CREATE FUNCTION cairn_add_inline(items jsonb, shas text[], data bytea[], stale bigint)
  RETURNS TABLE (r_seq bigint, r_version bigint, r_pinned integer,
    r_session_expires_at bigint, r_fresh boolean)
  LANGUAGE plpgsql AS $$
  DECLARE
    fresh text[];
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (
      SELECT DISTINCT 'b:' || sha AS k FROM unnest(shas) AS sha) q ORDER BY k;
    IF EXISTS (SELECT 1 FROM blobs WHERE sha256 = ANY(shas) AND gc_mark > stale) THEN
      RAISE EXCEPTION 'a blob is being collected' USING ERRCODE = 'CRN00';
    END IF;
    UPDATE blobs SET gc_mark = NULL WHERE sha256 = ANY(shas) AND gc_mark IS NOT NULL;
    WITH added AS (
      INSERT INTO inline_blobs (sha256, data) SELECT * FROM unnest(shas, data) ORDER BY 1
      ON CONFLICT (sha256) DO NOTHING RETURNING inline_blobs.sha256)
    SELECT coalesce(array_agg(added.sha256), '{}') INTO fresh FROM added;
    RETURN QUERY SELECT a.s, a.v, a.p, a.e, (items->(a.i::int - 1)->>'sha256') = ANY(fresh)
      FROM cairn_add_artifacts(items) WITH ORDINALITY AS a(s, v, p, e, i);
  END $$;
`;
