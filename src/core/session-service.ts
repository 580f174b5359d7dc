import type { Catalog } from '../catalog/catalog.js';
import { InvalidInputError, NotFoundError } from '../lib/errors.js';
import type { EventBus } from './events.js';
import { buildManifest, manifestDigest, type Manifest } from './manifest.js';
import { artifactRecord, sessionRecord } from './records.js';
import type { Signer } from './signer.js';
import type { ArtifactRecord, Page, SessionQuery, SessionRecord } from './types.js';
import { validateMeta, validateSessionId, type Meta } from './validate.js';

/** Checks a keep-last-N setting: a whole number from 1 to 100000, or null (unset). */
export function validateKeepVersions<T extends number | null | undefined>(n: T): T {
  if (n === undefined || n === null) return n;
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new InvalidInputError(
      'invalid_keep_versions',
      'keep_versions must be a whole number from 1 to 100000, or null to unset it',
    );
  }
  return n;
}

/** How a wait for a seal ended; see {@link SessionService.waitSealed}. */
export interface SealWait {
  /** The sealed session, or null if it was not sealed when the wait ended. */
  sealed: SessionRecord | null;
  /** The session as it is now, or null if it does not exist. */
  current: SessionRecord | null;
}

/** A session with its live artifacts (all versions). */
export type SessionWithArtifacts = SessionRecord & { artifacts: ArtifactRecord[] };

/** Creating, reading, listing and sealing sessions. */
export class SessionService {
  constructor(
    private readonly o: { catalog: Catalog; signer: Signer; events: EventBus; clock: () => number },
  ) {}

  /** Creates a session; throws ConflictError(`session_exists`), InvalidInputError. */
  async create(input: {
    id: string;
    meta?: Meta;
    ttlMs?: number;
    keepVersions?: number | null;
  }): Promise<SessionRecord> {
    validateSessionId(input.id);
    const meta = validateMeta(input.meta ?? {});
    const now = this.o.clock();
    const created = await this.o.catalog.createSession({
      id: input.id,
      meta,
      expiresAt: input.ttlMs === undefined ? null : now + input.ttlMs,
      keepVersions: validateKeepVersions(input.keepVersions),
      now,
    });
    return sessionRecord(created);
  }

  /** One live session; throws NotFoundError. */
  async get(id: string): Promise<SessionRecord> {
    validateSessionId(id);
    const s = await this.o.catalog.getSession(id, this.o.clock());
    if (!s) throw new NotFoundError(`session '${id}' not found (it may have expired)`);
    return sessionRecord(s);
  }

  /** One live session with its artifacts. */
  async getWithArtifacts(id: string): Promise<SessionWithArtifacts> {
    const s = await this.get(id);
    const artifacts = await this.o.catalog.sessionArtifacts(id, this.o.clock());
    return { ...s, artifacts: artifacts.map(artifactRecord) };
  }

  /**
   * Up to `limit` of the latest live versions of session `id` whose names sort after `after`,
   * as `SHA256 NAME\n` lines in name order ('' at the end); see Catalog.latestLines. Null when
   * the catalog cannot answer this way (then query artifacts with `latest`). The caller has
   * checked that the session exists and is visible.
   */
  async latestLines(id: string, after: string, limit: number): Promise<string | null> {
    const c = this.o.catalog;
    return c.latestLines ? c.latestLines(id, this.o.clock(), after, limit) : null;
  }

  /** Sessions newest first. */
  async list(q: SessionQuery): Promise<Page<SessionRecord>> {
    const page = await this.o.catalog.listSessions(q, this.o.clock());
    return { items: page.items.map(sessionRecord), next_cursor: page.next_cursor };
  }

  /** Updates an open session's metadata and/or TTL; throws SessionSealedError, NotFoundError. */
  async update(
    id: string,
    patch: { meta?: Meta; ttlMs?: number | null; keepVersions?: number | null; pinned?: boolean },
  ): Promise<SessionRecord> {
    validateSessionId(id);
    const now = this.o.clock();
    const updated = await this.o.catalog.updateSession(
      id,
      {
        meta: patch.meta === undefined ? undefined : validateMeta(patch.meta),
        expiresAt:
          patch.ttlMs === undefined ? undefined : patch.ttlMs === null ? null : now + patch.ttlMs,
        keepVersions: validateKeepVersions(patch.keepVersions),
        pinned: patch.pinned,
      },
      now,
    );
    return sessionRecord(updated);
  }

  /**
   * Seals a session: computes the digest of its canonical manifest and signs it, atomically
   * with respect to concurrent pushes. Idempotent: sealing a sealed session returns it as is.
   */
  async seal(id: string): Promise<SessionRecord> {
    validateSessionId(id);
    const sealed = await this.o.catalog.sealSession(id, this.o.clock(), (artifacts) => {
      const digest = manifestDigest(buildManifest(id, artifacts.map(artifactRecord)));
      return { digest, signature: this.o.signer.sign(digest) };
    });
    return sessionRecord(sealed);
  }

  /**
   * Waits until session `id` is sealed: at once if it already is, and also when it does not
   * exist yet but gets created and sealed while waiting. Ends unsealed after `timeoutMs`, when
   * `signal` aborts, or when the event bus shuts down. Subscribes to the bus before reading the
   * catalog, so a seal in between cannot be missed; never polls; releases everything it took.
   */
  async waitSealed(id: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<SealWait> {
    const { events, catalog, clock } = this.o;
    let wake!: (sealed: SessionRecord | null) => void;
    const woken = new Promise<SessionRecord | null>((r) => (wake = r));
    const unsubscribe = events.subscribe((ev) => {
      if (ev.session === id && ev.type === 'session.sealed') wake(ev.data as SessionRecord);
    });
    const timer = setTimeout(() => wake(null), o.timeoutMs);
    const stop = () => wake(null);
    o.signal?.addEventListener('abort', stop);
    const offShutdown = events.onShutdown(stop);
    try {
      const now = await catalog.getSession(id, clock());
      if (now && now.sealedAt !== null) wake(sessionRecord(now));
      const sealed = await woken;
      if (sealed) return { sealed, current: sealed };
      const s = await catalog.getSession(id, clock());
      const current = s && sessionRecord(s);
      return { sealed: current?.sealed ? current : null, current };
    } finally {
      unsubscribe();
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', stop);
      offShutdown();
    }
  }

  /** The canonical manifest of a session (what the digest covers). */
  async manifest(
    id: string,
  ): Promise<Manifest & { digest: string; sealed: boolean; signature: string | null }> {
    const s = await this.get(id);
    const artifacts = await this.o.catalog.sessionArtifacts(id, this.o.clock());
    const m = buildManifest(id, artifacts.map(artifactRecord));
    return {
      ...m,
      digest: s.digest ?? manifestDigest(m),
      sealed: s.sealed,
      signature: s.signature,
    };
  }
}
