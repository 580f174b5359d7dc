/**
 * The lifecycle rules of sessions and artifacts, stated once: when each is live, what expiry a
 * read reports, which version a read by name gets, what keep-last-N and a sweep remove, what
 * a sealed session counts. Pure functions over plain values (times in epoch milliseconds), no
 * imports: every catalog backend computes these in its own query language, and the conformance
 * suite (test/conformance/catalog-model-suite.ts) checks each one against these functions over
 * many random states. Change a rule here and in every backend, never in one alone.
 *
 * Vocabulary: a *row* is an artifact version still stored (a sweep has not removed it yet); it
 * is *live* when reads show it. An expired row stays invisible until the sweep removes it.
 */

/** What the rules read of a session. */
export interface SessionLife {
  /**
   * Its own expiry, as stored: the TTL it was given, or, once sealed, the one sealing set (see
   * {@link sealedSessionExpiry}); null: none. Kept while pinned, and in force again if unpinned.
   */
  expiresAt: number | null;
  /** A pinned session and its artifacts never expire. */
  pinned: boolean;
  /** When it was sealed; null while open. */
  sealedAt: number | null;
}

/** What the rules read of one artifact version (one row). */
export interface VersionLife {
  /** 1, 2, … per (session, name); never given twice. */
  version: number;
  /** Its own expiry (its TTL), before its session's applies; null: none. */
  expiresAt: number | null;
}

/** True if `at` (null: never) is still ahead of `now`: a thing expires at the instant itself. */
const ahead = (at: number | null, now: number) => at === null || at > now;

/**
 * The session is live at `now`: pinned, or without expiry, or expiring after `now`. A session
 * that is not live is gone for every read and write (a push or create starts its id afresh).
 */
export function isSessionLive(s: SessionLife, now: number): boolean {
  return s.pinned || ahead(s.expiresAt, now);
}

/** The expiry a read reports for the session: none while pinned, else its own. */
export function sessionExpiry(s: SessionLife): number | null {
  return s.pinned ? null : s.expiresAt;
}

/**
 * The row is in a sealed session's manifest: it was live when the session was sealed. Such a
 * row outlives its own expiry and lives as long as the session (a sealed session expires whole).
 */
export function inManifest(s: SessionLife, a: VersionLife): boolean {
  return s.sealedAt !== null && ahead(a.expiresAt, s.sealedAt);
}

/**
 * The expiry a read reports for an artifact: none in a pinned session; in a sealed one, the
 * session's (it expires whole); in an open one, the sooner of its own and its session's.
 */
export function artifactExpiry(s: SessionLife, a: VersionLife): number | null {
  if (s.pinned) return null;
  if (s.sealedAt !== null || a.expiresAt === null) return s.expiresAt;
  return s.expiresAt === null ? a.expiresAt : Math.min(a.expiresAt, s.expiresAt);
}

/**
 * The artifact is live at `now`: every row of a pinned session is; otherwise its session must
 * be live and the row either not expired on its own or in the sealed session's manifest. A row
 * not live is gone for writes too (deleting it is not found). Pinning keeps what is live: the rows no longer live when a session is pinned are removed by
 * the pin itself (its {@link sweepVictims}), so a pin never brings back what reads had stopped
 * showing, whether the sweep had run or not.
 */
export function isArtifactLive(s: SessionLife, a: VersionLife, now: number): boolean {
  if (s.pinned) return true;
  return isSessionLive(s, now) && (ahead(a.expiresAt, now) || inManifest(s, a));
}

/**
 * The version a read by name gets (and a `latest` query returns): the highest-numbered row of
 * the name still live at `now`, or null. The newest row may have expired before an older one.
 */
export function newestLiveVersion<V extends VersionLife>(
  s: SessionLife,
  versions: readonly V[],
  now: number,
): V | null {
  let best: V | null = null;
  for (const v of versions)
    if (isArtifactLive(s, v, now) && (best === null || v.version > best.version)) best = v;
  return best;
}

/**
 * How many versions per name keep-last-N keeps: the session's own setting wins over the
 * server's `defaultKeep`; null (nothing pruned) when neither is set or the value is not ≥ 1.
 */
export function keepFor(
  sessionKeep: number | null | undefined,
  defaultKeep: number | null | undefined,
): number | null {
  const keep = sessionKeep ?? defaultKeep ?? null;
  return keep !== null && keep >= 1 ? keep : null;
}

/**
 * The rows of one name that keep-last-N removes at `now`: the live ones after the `keep`
 * highest-numbered live ones (ranked by version, never by time). Expired rows take no place and
 * are never victims (the sweep's to remove). Nothing in a sealed or expired session, or when
 * `keep` is null.
 */
export function pruneVictims<V extends VersionLife>(
  keep: number | null,
  s: SessionLife,
  versions: readonly V[],
  now: number,
): V[] {
  if (keep === null || s.sealedAt !== null || !isSessionLive(s, now)) return [];
  const live = versions
    .filter((v) => isArtifactLive(s, v, now))
    .sort((x, y) => y.version - x.version);
  return live.slice(keep);
}

/**
 * What a sweep at `now` removes of one session: the session with every row when it is no
 * longer live; else the rows no longer live (expired on their own in an open session, or
 * expired before the seal in a sealed one). After a sweep, the rows left are exactly the live
 * ones. Pinned sessions lose nothing.
 */
export function sweepVictims<V extends VersionLife>(
  s: SessionLife,
  versions: readonly V[],
  now: number,
): { session: boolean; rows: V[] } {
  if (!isSessionLive(s, now)) return { session: true, rows: [...versions] };
  return { session: false, rows: versions.filter((v) => !isArtifactLive(s, v, now)) };
}

/**
 * A row's own expiry as sealing stores it: in a pinned session, a row kept past its own expiry
 * by the pin goes into the manifest (it is given `now + 1`, just after the seal), so it stays
 * with the session instead of being swept, and the seal broken, once the session is unpinned.
 */
export function sealedOwnExpiry(s: SessionLife, a: VersionLife, now: number): number | null {
  return s.pinned && !ahead(a.expiresAt, now) ? now + 1 : a.expiresAt;
}

/**
 * The expiry a session gets when sealed at `now` (from then on it expires whole): its own if it
 * has one; else when the longest-lived of its rows live on their own would have (own expiries
 * as {@link sealedOwnExpiry} leaves them); null if one of them has none, or there are none.
 */
export function sealedSessionExpiry(
  s: SessionLife,
  versions: readonly VersionLife[],
  now: number,
): number | null {
  if (s.expiresAt !== null) return s.expiresAt;
  const own = versions.map((v) => sealedOwnExpiry(s, v, now)).filter((e) => ahead(e, now));
  if (own.length === 0 || own.some((e) => e === null)) return null;
  return Math.max(...(own as number[]));
}

/**
 * The row counts in its session's `artifact_count` and `total_bytes`: every row of an open
 * session (an expired row counts until the sweep removes it), and of a sealed one the rows of
 * its manifest.
 */
export function countsInSession(s: SessionLife, a: VersionLife): boolean {
  return s.sealedAt === null || inManifest(s, a);
}
