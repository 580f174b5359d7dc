import {
  artifactExpiry,
  countsInSession,
  isArtifactLive,
  isSessionLive,
  newestLiveVersion,
  sessionExpiry,
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
 * The reads of LifecycleModel (see lifecycle-model.ts): what a catalog holding these sessions
 * and rows answers, every answer from the rules of core/lifecycle.ts.
 */
export class ModelReads {
  readonly sessions = new Map<string, ModelSession>();
  /** Every blob ever referenced, with its size (blob rows stay at 0 references: no GC here). */
  readonly blobs = new Map<string, number>();

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

  protected counted(s: ModelSession): ModelRow[] {
    return s.rows.filter((r) => countsInSession(s.life, r));
  }

  protected unreferencedOf(rows: ModelRow[]): string[] {
    return [...new Set(rows.map((r) => r.sha256))].filter((b) => this.refs(b) === 0).sort();
  }
}
