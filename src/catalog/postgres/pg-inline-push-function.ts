/**
 * Migration 6 of PG_MIGRATIONS (kept here for its size; never edit it: append a new one).
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
 */
export const INLINE_PUSH_FUNCTION = `
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
