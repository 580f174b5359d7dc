import {
  isArtifactLive,
  isSessionLive,
  keepFor,
  pruneVictims,
  sealedOwnExpiry,
  sealedSessionExpiry,
  sweepVictims,
} from '../../src/core/lifecycle.js';
import type { ArtifactRecord } from '../../src/core/types.js';
import { ModelReads, type ModelPush, type ModelRow, type ModelSession } from './model-reads.js';

export type { ModelPush, ModelRow, ModelSession } from './model-reads.js';

/**
 * A reference catalog in memory whose every answer comes from the rules of core/lifecycle.ts:
 * the conformance suite applies the same operations to it and to a real catalog and compares
 * what each returns. It keeps the rows a sweep has not removed yet, as a catalog does; only
 * lifecycle is modelled (no metadata, lineage, leases or blob collection).
 */
export class LifecycleModel extends ModelReads {
  private ord = 0;

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
