import { timingSafeEqual } from 'node:crypto';
import type { Catalog } from '../catalog/catalog.js';
import type { StoredShare } from '../catalog/share-catalog.js';
import { CairnError, InvalidInputError, NotFoundError } from '../lib/errors.js';
import { artifactRecord, sessionRecord } from './records.js';
import { shareNotFound } from './read-scope.js';
import { newId } from '../lib/ids.js';
import { hashSecret, newSecret } from './token-service.js';
import type { ArtifactRecord, SessionRecord } from './types.js';

/** Default lifetime of a link created without a TTL (capped by the server maximum). */
export const DEFAULT_SHARE_TTL_MS = 7 * 86_400_000;

/** A share link as listed (never its secret). */
export interface ShareRecord {
  id: string;
  kind: 'artifact' | 'session';
  artifact_id: string | null;
  session: string | null;
  /** The shared artifact's name, while it exists. */
  name: string | null;
  created_at: string;
  expires_at: string;
  max_downloads: number | null;
  downloads: number;
  last_access_at: string | null;
  revoked_at: string | null;
  status: 'active' | 'expired' | 'revoked' | 'exhausted';
}

/** What a valid link leads to. */
export type ShareTarget =
  | { share: StoredShare; artifact: ArtifactRecord; session?: undefined }
  | { share: StoredShare; session: SessionRecord; artifact?: undefined };

/** A link's status at `now`. */
function statusOf(s: StoredShare, now: number): ShareRecord['status'] {
  if (s.revokedAt !== null) return 'revoked';
  if (s.expiresAt <= now) return 'expired';
  if (s.maxDownloads !== null && s.downloads >= s.maxDownloads) return 'exhausted';
  return 'active';
}

const gone = (code: string, message: string) => new CairnError(code, 410, message);

/**
 * Share links: unguessable (256-bit random), expiring, revocable URLs to one artifact or one
 * session, usable without a token. Only the sha256 of a link's secret is stored.
 */
export class ShareService {
  constructor(
    private readonly o: {
      catalog: Catalog;
      clock: () => number;
      /** Longest lifetime of any link; longer requests are capped to it. */
      maxTtlMs: number;
    },
  ) {}

  /**
   * Creates a link to a live artifact or session; returns the record and the secret (shown
   * once). TTL defaults to 7 days; both are capped by the server maximum. Throws
   * NotFoundError, InvalidInputError(`invalid_max_downloads`).
   */
  async create(input: {
    target: { artifact: ArtifactRecord } | { session: SessionRecord };
    ttlMs?: number;
    maxDownloads?: number;
    createdBy?: string;
  }): Promise<{ record: ShareRecord; token: string }> {
    const max = input.maxDownloads;
    if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1_000_000_000)) {
      throw new InvalidInputError(
        'invalid_max_downloads',
        'max_downloads must be a whole number from 1 to 1000000000',
      );
    }
    const now = this.o.clock();
    const ttl = Math.min(input.ttlMs ?? DEFAULT_SHARE_TTL_MS, this.o.maxTtlMs);
    const token = newSecret('cs');
    const t = input.target;
    const share: StoredShare = {
      id: newId('sh', now),
      tokenHash: hashSecret(token),
      artifactId: 'artifact' in t ? t.artifact.id : null,
      sessionId: 'artifact' in t ? t.artifact.session : t.session.id,
      sessionCreatedAt: 'session' in t ? Date.parse(t.session.created_at) : null,
      createdAt: now,
      expiresAt: now + ttl,
      maxDownloads: max ?? null,
      downloads: 0,
      lastAccessAt: null,
      revokedAt: null,
      createdBy: input.createdBy ?? null,
    };
    await this.o.catalog.shares.add(share);
    return { record: await this.toRecord(share, now), token };
  }

  /** Every link, newest first (at most 1000); with `sessions`, only links into matching sessions. */
  async list(sessions?: string): Promise<ShareRecord[]> {
    const now = this.o.clock();
    const rows = await this.o.catalog.shares.list(1000, sessions);
    return Promise.all(rows.map((s) => this.toRecord(s, now)));
  }

  /** One link; throws NotFoundError. */
  async get(id: string): Promise<ShareRecord> {
    const s = await this.o.catalog.shares.get(id);
    if (!s) throw shareNotFound(id);
    return this.toRecord(s, this.o.clock());
  }

  /** Revokes a link (idempotent); its URL answers 410 from now on. Throws NotFoundError. */
  async revoke(id: string): Promise<ShareRecord> {
    if (!(await this.o.catalog.shares.revoke(id, this.o.clock()))) throw shareNotFound(id);
    return this.get(id);
  }

  /**
   * Resolves a link's secret. Unknown or tampered → NotFoundError (404); expired, revoked,
   * used up, or its artifact/session gone → 410 (`share_expired`, `share_revoked`,
   * `share_exhausted`, `share_target_gone`). Does not count a download.
   */
  async resolve(token: string): Promise<ShareTarget> {
    const hash = hashSecret(token);
    const share = await this.o.catalog.shares.byHash(hash);
    if (!share || !timingSafeEqual(Buffer.from(share.tokenHash, 'hex'), Buffer.from(hash, 'hex')))
      throw new NotFoundError('this share link does not exist; check that it was copied whole');
    const now = this.o.clock();
    const status = statusOf(share, now);
    if (status === 'revoked') throw gone('share_revoked', 'this share link was revoked');
    if (status === 'expired') throw gone('share_expired', 'this share link has expired');
    if (status === 'exhausted')
      throw gone('share_exhausted', 'this share link has reached its download limit');
    const lost = () =>
      gone('share_target_gone', 'what this link shared has expired or was deleted');
    if (share.artifactId !== null) {
      const artifact = await this.o.catalog.getArtifact(share.artifactId, now);
      if (!artifact) throw lost();
      return { share, artifact: artifactRecord(artifact) };
    }
    const session = await this.o.catalog.getSession(share.sessionId ?? '', now);
    if (!session || session.createdAt !== share.sessionCreatedAt) throw lost();
    return { share, session: sessionRecord(session) };
  }

  /** Counts a download; throws 410 if the link became unusable meanwhile (cap reached). */
  async claimDownload(share: StoredShare): Promise<void> {
    if (!(await this.o.catalog.shares.claimDownload(share.id, this.o.clock())))
      throw gone(
        'share_exhausted',
        'this share link is no longer usable (download limit reached, expired or revoked)',
      );
  }

  /** Records an access that is not a download (HEAD, 304). */
  async touch(share: StoredShare): Promise<void> {
    await this.o.catalog.shares.touch(share.id, this.o.clock());
  }

  private async toRecord(s: StoredShare, now: number): Promise<ShareRecord> {
    const artifact = s.artifactId ? await this.o.catalog.getArtifact(s.artifactId, now) : null;
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      id: s.id,
      kind: s.artifactId ? 'artifact' : 'session',
      artifact_id: s.artifactId,
      session: s.sessionId,
      name: artifact?.name ?? null,
      created_at: new Date(s.createdAt).toISOString(),
      expires_at: new Date(s.expiresAt).toISOString(),
      max_downloads: s.maxDownloads,
      downloads: s.downloads,
      last_access_at: iso(s.lastAccessAt),
      revoked_at: iso(s.revokedAt),
      status: statusOf(s, now),
    };
  }
}
