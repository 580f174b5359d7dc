/**
 * Migration 4 of PG_MIGRATIONS (kept here for its size; like every released migration, never
 * edit it: append a new one). Two functions that let a push cost one round trip per catalog
 * call instead of a dozen, at READ COMMITTED with row and advisory locks in place of
 * SERIALIZABLE reruns:
 *
 * - `cairn_lease_blobs` (see PgLeases.leaseBlobs): the leases of many calls; takes a
 *   transaction advisory lock per hash (`b:<sha256>`, in key order), then checks each call's
 *   marks and writes its lease, each statement on a snapshot taken after the locks. markBlob takes the same keys before its transaction
 *   begins, so a lease and a mark of one blob always run one after the other, each seeing what
 *   the other committed: the exclusion SERIALIZABLE gave, without aborting concurrent leases
 *   whose unique-index probes touch the same index page.
 * - `cairn_add_artifacts` (see PgPushBatcher): the rows of many pushes in one call, for the
 *   common case only (open, live sessions; live parents; unmarked blobs). Anything else raises
 *   SQLSTATE CRN00 and the caller takes the full path (addArtifactRow), which tells the
 *   precise error or purges an expired session. Why READ COMMITTED is safe here: every write
 *   of a session's rows (push, delete, prune, seal, session update and delete) locks the
 *   session row first, so after this function holds its sessions' rows no other transaction
 *   can change their artifacts, version counters or latest flags until it commits, and each
 *   statement afterwards reads on a fresh snapshot. The sweep removes rows before it updates
 *   or deletes their session row, so against a push it can only deadlock, which PostgreSQL
 *   breaks by aborting one side (then rerun whole). Versions come from the counter row under
 *   that lock and the (session, name, version) key: dense and unique across nodes. It also
 *   holds each session's advisory key (`s:<id>`), which the SERIALIZABLE writers of a session
 *   take before their snapshot, so they wait for a group instead of rerunning against it.
 */
export const PUSH_FUNCTIONS = `
  CREATE FUNCTION cairn_lease_blobs(calls jsonb) RETURNS boolean[] LANGUAGE plpgsql AS $$
  DECLARE
    c jsonb;
    shas text[];
    stale bigint;
    answers boolean[] := '{}';
  BEGIN
    -- Every key of every call first, in one order: no cycle with another batch or a mark.
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (
      SELECT DISTINCT 'b:' || sha AS k
      FROM jsonb_array_elements(calls) AS x, jsonb_array_elements_text(x->'shas') AS sha) q
      ORDER BY k;
    FOR c IN SELECT x FROM jsonb_array_elements(calls) WITH ORDINALITY AS e(x, i) ORDER BY i LOOP
      shas := ARRAY(SELECT DISTINCT jsonb_array_elements_text(c->'shas'));
      stale := (c->>'now')::bigint - (c->>'staleMs')::bigint;
      IF EXISTS (SELECT 1 FROM blobs WHERE sha256 = ANY(shas) AND gc_mark > stale) THEN
        answers := answers || false;
        CONTINUE;
      END IF;
      -- A stale mark is a dead collector's: taken over.
      UPDATE blobs SET gc_mark = NULL
        WHERE sha256 = ANY(shas) AND gc_mark IS NOT NULL AND gc_mark <= stale;
      INSERT INTO blob_leases AS l (id, sha256, until)
        SELECT c->>'id', sha, (c->>'until')::bigint FROM unnest(shas) AS sha
        ON CONFLICT (sha256, id) DO UPDATE SET until = GREATEST(l.until, excluded.until);
      answers := answers || true;
    END LOOP;
    RETURN answers;
  END $$;

  CREATE FUNCTION cairn_add_artifacts(items jsonb) RETURNS TABLE (
    r_seq bigint, r_version bigint, r_pinned integer, r_session_expires_at bigint)
  LANGUAGE plpgsql AS $$
  DECLARE
    it jsonb;
    s record;
    v bigint;
    art bigint;
    now_ms bigint;
    n bigint;
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
      INSERT INTO artifact_meta (key, value, artifact_seq)
        SELECT key, value, art FROM jsonb_each_text(it->'metaText');
      INSERT INTO lineage (child_seq, parent_id)
        SELECT DISTINCT art, p FROM jsonb_array_elements_text(it->'derivedFrom') AS p
        ON CONFLICT DO NOTHING;
      r_seq := art;
      r_version := v;
      r_pinned := s.pinned;
      r_session_expires_at := s.expires_at;
      RETURN NEXT;
    END LOOP;
    -- Each session's counters once, its updated_at from its last push (as one at a time).
    UPDATE sessions ss SET artifact_count = ss.artifact_count + g.n,
        total_bytes = ss.total_bytes + g.bytes, updated_at = g.last
      FROM (SELECT x->>'session' AS id, count(*) AS n, sum((x->>'size')::bigint) AS bytes,
              (array_agg((x->>'createdAt')::bigint ORDER BY i DESC))[1] AS last
            FROM jsonb_array_elements(items) WITH ORDINALITY AS e(x, i) GROUP BY 1) g
      WHERE ss.id = g.id;
  END $$;
`;
