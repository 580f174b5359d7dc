import {
  artifactExpiry,
  countsInSession,
  isArtifactLive,
  isSessionLive,
  keepFor,
  newestLiveVersion,
  pruneVictims,
  sealedOwnExpiry,
  sealedSessionExpiry,
  sessionExpiry,
  sweepVictims,
  type SessionLife,
} from '../../src/core/lifecycle.js';
import type { ArtifactRecord, SessionRecord } from '../../src/core/types.js';

/** One stored artifact row of the model. */
export interface ModelRow {
  id: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  createdAt: number;
  /** Its own expiry (see VersionLife). */
  expiresAt: number | null;
  /** Insertion order: queries return rows newest first by it. */
  ord: number;
}

/** One stored session of the model, with its rows and version counters. */
export interface ModelSession {
  id: string;
  ord: number;
  createdAt: number;
  life: SessionLife;
  keep: number | null;
  digest: string | null;
  signature: string | null;
  rows: ModelRow[];
  counters: Map<string, number>;
}

/** What a push gives the model (a NewArtifact without lineage or metadata). */
export interface ModelPush {
  id: string;
  session: string;
  name: string;
  sha256: string;
  size: number;
  createdAt: number;
  expiresAt: number | null;
  sessionExpiresAt: number | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const byNameVersion = (x: ModelRow, y: ModelRow) =>
  x.name < y.name ? -1 : x.name > y.name ? 1 : x.version - y.version;

/**
 * A reference catalog in memory whose every answer comes from the rules of core/lifecycle.ts:
 * the conformance suite applies the same operations to it and to a real catalog and compares
 * what each returns. It keeps the rows a sweep has not removed yet, as a catalog does; only
 * lifecycle is modelled (no metadata, lineage, leases or blob collection).
 */
export class LifecycleModel {
  readonly sessions = new Map<string, ModelSession>();
  /** Every blob ever referenced, with its size (blob rows stay at 0 references: no GC here). */
  readonly blobs = new Map<string, number>();
  private ord = 0;

  /** The session `id` if it is stored and live at `now`. */
  live(id: string, now: number): ModelSession | undefined {
    const s = this.sessions.get(id);
    return s && isSessionLive(s.life, now) ? s : undefined;
  }

  /** The rows that reference `sha256`, across sessions. */
  refs(sha256: string): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.rows.filter((r) => r.sha256 === sha256).length;
    return n;
  }

  /** Blobs with no reference left, sorted. */
  unreferenced(): string[] {
    return [...this.blobs.keys()].filter((b) => this.refs(b) === 0).sort();
  }

  createSession(id: string, expiresAt: number | null, keep: number | null, now: number) {
    this.purgeIfExpired(id, now);
    if (this.sessions.has(id)) return 'session_exists';
    return this.newSession(id, expiresAt, keep, now);
  }

  push(a: ModelPush): ModelRow | 'session_sealed' {
    this.purgeIfExpired(a.session, a.createdAt);
    const s =
      this.sessions.get(a.session) ??
      this.newSession(a.session, a.sessionExpiresAt, null, a.createdAt);
    if (s.life.sealedAt !== null) return 'session_sealed';
    const version = (s.counters.get(a.name) ?? 0) + 1;
    s.counters.set(a.name, version);
    const row: ModelRow = { ...a, version, ord: ++this.ord };
    s.rows.push(row);
    if (!this.blobs.has(a.sha256)) this.blobs.set(a.sha256, a.size);
    return row;
  }

  update(
    id: string,
    patch: { expiresAt?: number | null; keepVersions?: number | null; pinned?: boolean },
    now: number,
  ): ModelSession | 'not_found' | 'session_sealed' {
    const s = this.live(id, now);
    if (!s) return 'not_found';
    if (
      s.life.sealedAt !== null &&
      (patch.expiresAt !== undefined || patch.keepVersions !== undefined)
    )
      return 'session_sealed';
    if (patch.expiresAt !== undefined) s.life.expiresAt = patch.expiresAt;
    if (patch.keepVersions !== undefined) s.keep = patch.keepVersions;
    if (patch.pinned === true && !s.life.pinned) {
      const gone = sweepVictims(s.life, s.rows, now).rows;
      s.rows = s.rows.filter((r) => !gone.includes(r));
    }
    if (patch.pinned !== undefined) s.life.pinned = patch.pinned;
    return s;
  }

  /** Seals `id`; returns what the manifest holds (the input of computeSeal), or an error code. */
  seal(id: string, now: number, digest: string): ArtifactRecord[] | 'not_found' | 'unchanged' {
    const s = this.live(id, now);
    if (!s) return 'not_found';
    if (s.life.sealedAt !== null) return 'unchanged';
    const manifest = this.sessionArtifacts(id, now);
    const expiresAt = sealedSessionExpiry(s.life, s.rows, now);
    for (const r of s.rows) r.expiresAt = sealedOwnExpiry(s.life, r, now);
    s.life = { ...s.life, sealedAt: now, expiresAt };
    s.digest = digest;
    s.signature = `sig-${digest}`;
    return manifest;
  }

  /** Deletes a live row of an open session; returns it as read before, or an error code. */
  deleteArtifact(
    id: string,
    now: number,
  ): { record: ArtifactRecord; unreferenced: boolean } | string {
    for (const s of this.sessions.values()) {
      const row = s.rows.find((r) => r.id === id);
      if (!row || !isArtifactLive(s.life, row, now)) continue;
      if (s.life.sealedAt !== null) return 'session_sealed';
      const record = this.record(s, row);
      s.rows = s.rows.filter((r) => r !== row);
      return { record, unreferenced: this.refs(row.sha256) === 0 };
    }
    return 'not_found';
  }

  deleteSession(id: string, now: number): { artifacts: number; unreferenced: string[] } | string {
    const s = this.live(id, now);
    if (!s) return 'not_found';
    if (s.life.sealedAt !== null) return 'session_sealed';
    this.sessions.delete(id);
    return { artifacts: s.rows.length, unreferenced: this.unreferencedOf(s.rows) };
  }

  prune(session: string, name: string | null, defaultKeep: number | undefined, now: number) {
    const s = this.sessions.get(session);
    if (!s) return { removed: [], unreferenced: [] };
    const keep = keepFor(s.keep, defaultKeep);
    const names = name === null ? new Set(s.rows.map((r) => r.name)) : new Set([name]);
    const victims = [...names].flatMap((n) =>
      pruneVictims(
        keep,
        s.life,
        s.rows.filter((r) => r.name === n),
        now,
      ),
    );
    const removed = victims.map((r) => this.record(s, r));
    s.rows = s.rows.filter((r) => !victims.includes(r));
    return { removed, unreferenced: this.unreferencedOf(victims) };
  }

  /** What sweeping everything expired at `now` removes (and removes it). */
  sweep(now: number) {
    const out = {
      sessions: [] as { id: string; artifacts: number }[],
      sessionArtifactRows: 0,
      artifacts: [] as ArtifactRecord[],
    };
    for (const s of [...this.sessions.values()]) {
      const v = sweepVictims(s.life, s.rows, now);
      if (v.session) {
        out.sessions.push({ id: s.id, artifacts: this.counted(s).length });
        out.sessionArtifactRows += s.rows.length;
        this.sessions.delete(s.id);
      } else {
        out.artifacts.push(...v.rows.map((r) => this.record(s, r)));
        s.rows = s.rows.filter((r) => !v.rows.includes(r));
      }
    }
    return out;
  }

  /** What a sweep at `now` would remove, and the blobs and bytes it would free. */
  plan(now: number) {
    const doomed: ModelRow[] = [];
    const sessions: string[] = [];
    for (const s of this.sessions.values()) {
      const v = sweepVictims(s.life, s.rows, now);
      if (v.session) sessions.push(s.id);
      doomed.push(...v.rows);
    }
    const freed = [...this.blobs.keys()].filter(
      (b) => this.refs(b) === doomed.filter((r) => r.sha256 === b).length,
    );
    return {
      sessions: sessions.sort(),
      sessionCount: sessions.length,
      artifacts: doomed.length,
      blobs: freed.length,
      bytes: freed.reduce((n, b) => n + (this.blobs.get(b) ?? 0), 0),
    };
  }

  getSession(id: string, now: number): Omit<SessionRecord, 'updated_at'> | null {
    const s = this.live(id, now);
    return s ? this.sessionRecord(s) : null;
  }

  /** The record of a stored session (a write answers with it even if it is no longer live). */
  sessionRecord(s: ModelSession): Omit<SessionRecord, 'updated_at'> {
    const counted = this.counted(s);
    return {
      id: s.id,
      meta: {},
      created_at: iso(s.createdAt) as string,
      expires_at: iso(sessionExpiry(s.life)),
      sealed: s.life.sealedAt !== null,
      sealed_at: iso(s.life.sealedAt),
      digest: s.digest,
      signature: s.signature,
      pinned: s.life.pinned,
      artifact_count: counted.length,
      total_bytes: counted.reduce((n, r) => n + r.size, 0),
      keep_versions: s.keep,
    };
  }

  /** Live sessions newest first (optionally only sealed or only open ones). */
  listSessions(now: number, sealed?: boolean) {
    return [...this.sessions.values()]
      .filter((s) => this.live(s.id, now))
      .filter((s) => sealed === undefined || (s.life.sealedAt !== null) === sealed)
      .sort((x, y) => y.ord - x.ord)
      .map((s) => this.getSession(s.id, now));
  }

  getArtifact(id: string, now: number): ArtifactRecord | null {
    for (const s of this.sessions.values()) {
      const row = s.rows.find((r) => r.id === id);
      if (row) return isArtifactLive(s.life, row, now) ? this.record(s, row) : null;
    }
    return null;
  }

  findArtifact(session: string, name: string, version: number | undefined, now: number) {
    const s = this.sessions.get(session);
    if (!s) return null;
    const rows = s.rows.filter((r) => r.name === name);
    const row =
      version === undefined
        ? newestLiveVersion(s.life, rows, now)
        : rows.find((r) => r.version === version && isArtifactLive(s.life, r, now));
    return row ? this.record(s, row) : null;
  }

  /** Live artifacts newest first; `latest`: only each name's newest live version. */
  query(now: number, q: { session?: string; latest?: boolean }): ArtifactRecord[] {
    const out: [number, ArtifactRecord][] = [];
    for (const s of this.sessions.values()) {
      if (q.session !== undefined && s.id !== q.session) continue;
      for (const r of s.rows) {
        if (!isArtifactLive(s.life, r, now)) continue;
        const same = s.rows.filter((x) => x.name === r.name);
        if (q.latest && newestLiveVersion(s.life, same, now) !== r) continue;
        out.push([r.ord, this.record(s, r)]);
      }
    }
    return out.sort((x, y) => y[0] - x[0]).map(([, rec]) => rec);
  }

  /** A session's live artifacts sorted by name then version. */
  sessionArtifacts(id: string, now: number): ArtifactRecord[] {
    const s = this.sessions.get(id);
    if (!s) return [];
    return s.rows
      .filter((r) => isArtifactLive(s.life, r, now))
      .sort(byNameVersion)
      .map((r) => this.record(s, r));
  }

  /** The record a read returns for a row. */
  record(s: ModelSession, r: ModelRow): ArtifactRecord {
    return {
      id: r.id,
      session: s.id,
      name: r.name,
      version: r.version,
      sha256: r.sha256,
      size: r.size,
      content_type: 'text/plain',
      meta: {},
      created_at: iso(r.createdAt) as string,
      expires_at: iso(artifactExpiry(s.life, r)),
      derived_from: [],
    };
  }

  private counted(s: ModelSession): ModelRow[] {
    return s.rows.filter((r) => countsInSession(s.life, r));
  }

  private unreferencedOf(rows: ModelRow[]): string[] {
    return [...new Set(rows.map((r) => r.sha256))].filter((b) => this.refs(b) === 0).sort();
  }

  private purgeIfExpired(id: string, now: number): void {
    const s = this.sessions.get(id);
    if (s && !isSessionLive(s.life, now)) this.sessions.delete(id);
  }

  private newSession(id: string, expiresAt: number | null, keep: number | null, now: number) {
    const s: ModelSession = {
      id,
      ord: ++this.ord,
      createdAt: now,
      life: { expiresAt, pinned: false, sealedAt: null },
      keep,
      digest: null,
      signature: null,
      rows: [],
      counters: new Map(),
    };
    this.sessions.set(id, s);
    return s;
  }
}
