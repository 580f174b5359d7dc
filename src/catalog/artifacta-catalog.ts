/** One paired id of Artifacta's API (see migration 10). Times are epoch milliseconds. */
export interface ArtifactaIdRow {
  /** `art_…` or `lnk_…`. */
  id: string;
  kind: 'artifact' | 'link';
  /** The Cairn id it stands for (`a_…`, `sh_…`); null while a two-phase upload is pending. */
  cairnId: string | null;
  /** The artifact's expiry when last seen (tells an expired id from a deleted one). */
  expiresAt: number | null;
  deletedAt: number | null;
  /** A pending two-phase upload, as JSON (see ArtifactaService). */
  upload: string | null;
  /** The published page, as JSON, or null. */
  page: string | null;
}

/** One session ordered by activity, as Artifacta's `GET /v1/sessions` lists them. */
export interface ActivityRow {
  id: string;
  artifactCount: number;
  sealedAt: number | null;
  createdAt: number;
  firstArtifactAt: number | null;
  lastArtifactAt: number | null;
  /** Activity time the order (and the cursor) is by. */
  activeAt: number;
}

/**
 * The catalog's part for Artifacta compatibility: the pairing of its ids with Cairn's, and
 * the few things only its API has. Every method is atomic; lookups of a missing id return null.
 */
export interface ArtifactaCatalog {
  /**
   * Pairs ids unless the Cairn id (or the id) is paired already; returns the pairing now
   * stored for each Cairn id (so concurrent callers agree on one).
   */
  pair(
    rows: { id: string; kind: ArtifactaIdRow['kind']; cairnId: string; expiresAt: number | null }[],
  ): Promise<Map<string, string>>;
  /** The row of an `art_`/`lnk_` id, or null. */
  get(id: string): Promise<ArtifactaIdRow | null>;
  /** Adds a row for a pending upload (no Cairn id yet). */
  addPending(id: string, upload: string): Promise<void>;
  /** Sets fields of a row; false if the id is unknown. */
  update(id: string, patch: Partial<Omit<ArtifactaIdRow, 'id' | 'kind'>>): Promise<boolean>;
  /** Sets (or with null clears) the published page of an id and its secret. */
  setPage(id: string, page: { secret: string; json: string } | null): Promise<void>;
  /** The id published under a page secret, or null. */
  pageOwner(secret: string): Promise<string | null>;
  /**
   * Live sessions, most recent activity first, after the position `after` (activeAt, id);
   * `createdAfter`/`createdBefore` bound the session's creation. `exclude` is left out, and
   * with `sessions` (a session glob) every session it does not match.
   */
  sessionsByActivity(q: {
    now: number;
    limit: number;
    after?: { activeAt: number; id: string };
    createdAfter?: number;
    createdBefore?: number;
    exclude: string;
    /** Only sessions whose id matches this glob (a key's session glob). */
    sessions?: string;
  }): Promise<ActivityRow[]>;
  /**
   * Sets an artifact's own expiry (null: none) if its session is open; 'sealed' if not,
   * 'missing' if there is no such live row.
   */
  setArtifactExpiry(
    cairnId: string,
    expiresAt: number | null,
    now: number,
  ): Promise<'ok' | 'sealed' | 'missing'>;
}
