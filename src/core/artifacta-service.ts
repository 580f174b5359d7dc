import { createHash, randomBytes } from 'node:crypto';
import type { ActivityRow, ArtifactaCatalog } from '../catalog/artifacta-catalog.js';
import type { Catalog } from '../catalog/catalog.js';
import { CairnError, NotFoundError, SessionSealedError } from '../lib/errors.js';
import type { ArtifactService } from './artifact-service.js';
import { artifactRecord } from './records.js';
import type { ArtifactRecord } from './types.js';

/** The Cairn session that holds artifacts pushed through Artifacta's API without a session. */
export const NO_SESSION = 'artifacta-unsessioned';

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` base-62 characters of a 256-bit value (uniform enough: 62^20 ≪ 2^256). */
function base62(bytes: Buffer, n: number): string {
  let v = BigInt(`0x${bytes.toString('hex')}`);
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALNUM[Number(v % 62n)];
    v /= 62n;
  }
  return out;
}

/** `prefix` + `n` alphanumerics derived from a Cairn id: the same id always gets the same one. */
function derivedId(prefix: 'art' | 'lnk', cairnId: string, n: number): string {
  return `${prefix}_${base62(createHash('sha256').update(`artifacta:${cairnId}`).digest(), n)}`;
}

/** A fresh random `art_` id (for a two-phase upload, whose Cairn id does not exist yet). */
function randomArtId(): string {
  return `art_${base62(randomBytes(32), 16)}`;
}

/** A pending two-phase upload as stored with its `art_` id. */
export interface PendingUpload {
  filename: string;
  contentType: string;
  size: number;
  session: string;
  meta: Record<string, string>;
  ttlMs?: number;
  /** sha256 of the one-time credential the upload PUT must carry. */
  credentialHash: string;
  /** Epoch ms after which the upload URL no longer works. */
  expiresAt: number;
}

/** A published page as stored with its `art_` id. */
export interface PublishedPage {
  pageId: string;
  secret: string;
  visibility: string;
  title: string | null;
}

const gone = (code: string, message: string) => new CairnError(code, 410, message);

/**
 * What Artifacta's API needs beyond Cairn's core: its ids (`art_` + 16, `lnk_` + 20
 * alphanumerics) paired with Cairn's, the memory of deleted ids, pending two-phase uploads,
 * published pages and sessions by activity. Cairn's 128-bit ids do not fit Artifacta's 95-bit
 * ones, so ids are paired in the catalog: an id derived from the Cairn id by hash (so
 * concurrent first sights agree), or random for an upload not yet received.
 */
export class ArtifactaService {
  private readonly ids: ArtifactaCatalog;

  constructor(
    private readonly o: { catalog: Catalog; artifacts: ArtifactService; clock: () => number },
  ) {
    this.ids = o.catalog.artifacta;
  }

  /** The `art_` id of each record (pairing the ones seen for the first time). */
  async artifactIds(recs: ArtifactRecord[]): Promise<Map<string, string>> {
    return this.ids.pair(
      recs.map((r) => ({
        id: derivedId('art', r.id, 16),
        kind: 'artifact' as const,
        cairnId: r.id,
        expiresAt: r.expires_at === null ? null : Date.parse(r.expires_at),
      })),
    );
  }

  /** The `lnk_` id of a Cairn share. */
  async linkId(shareId: string, expiresAt: number): Promise<string> {
    const ids = await this.ids.pair([
      { id: derivedId('lnk', shareId, 20), kind: 'link', cairnId: shareId, expiresAt },
    ]);
    return ids.get(shareId) as string;
  }

  /**
   * The live artifact behind an `art_` id. Throws 404 `artifact_not_found` (unknown, or an
   * upload not completed), 410 `artifact_already_deleted`, 410 `artifact_expired`.
   */
  async resolve(artId: string): Promise<ArtifactRecord> {
    const row = await this.ids.get(artId);
    if (!row || row.kind !== 'artifact' || row.cairnId === null)
      throw new NotFoundError(`artifact '${artId.slice(0, 40)}' not found`, 'artifact_not_found');
    if (row.deletedAt !== null)
      throw gone('artifact_already_deleted', `artifact '${artId}' was deleted`);
    const found = await this.o.catalog.getArtifact(row.cairnId, this.o.clock());
    if (found) return artifactRecord(found);
    if (row.expiresAt !== null && row.expiresAt <= this.o.clock())
      throw gone('artifact_expired', `artifact '${artId}' has expired`);
    // Removed through Cairn's own API (or its session expired): gone all the same.
    throw gone('artifact_already_deleted', `artifact '${artId}' was deleted`);
  }

  /**
   * Deletes the artifact behind `artId` and remembers it, so a repeated delete answers 410
   * `artifact_already_deleted`. Throws as {@link resolve}, SessionSealedError.
   */
  async delete(artId: string): Promise<{ record: ArtifactRecord; deletedAt: number }> {
    const rec = await this.resolve(artId);
    await this.o.artifacts.delete(rec.id);
    const deletedAt = this.o.clock();
    await this.ids.update(artId, { deletedAt });
    return { record: rec, deletedAt };
  }

  /** Records a pending two-phase upload; returns its new `art_` id. */
  async addPending(upload: PendingUpload): Promise<string> {
    const id = randomArtId();
    await this.ids.addPending(id, JSON.stringify(upload));
    return id;
  }

  /** The pending upload of an `art_` id and the Cairn id its bytes became (if they arrived). */
  async pending(artId: string): Promise<{ upload: PendingUpload; cairnId: string | null } | null> {
    const row = await this.ids.get(artId);
    if (!row?.upload) return null;
    return { upload: JSON.parse(row.upload) as PendingUpload, cairnId: row.cairnId };
  }

  /** Pairs a pending upload's id with the artifact its bytes became. */
  async attach(artId: string, rec: ArtifactRecord): Promise<void> {
    await this.ids.update(artId, {
      cairnId: rec.id,
      expiresAt: rec.expires_at === null ? null : Date.parse(rec.expires_at),
    });
  }

  /** The published page of an `art_` id, or null. */
  async page(artId: string): Promise<PublishedPage | null> {
    const row = await this.ids.get(artId);
    return row?.page ? (JSON.parse(row.page) as PublishedPage) : null;
  }

  /** Publishes (page given) or unpublishes (null) an `art_` id. */
  async setPage(artId: string, page: PublishedPage | null): Promise<void> {
    await this.ids.setPage(artId, page && { secret: page.secret, json: JSON.stringify(page) });
  }

  /** The live artifact published under a page secret; throws NotFoundError. */
  async published(secret: string): Promise<ArtifactRecord> {
    const owner = await this.ids.pageOwner(secret);
    if (!owner) throw new NotFoundError('no page is published here', 'page_not_found');
    return this.resolve(owner);
  }

  /** Sessions (except {@link NO_SESSION}; with `sessions`, those its glob matches), most recent activity first. */
  sessions(q: {
    limit: number;
    after?: { activeAt: number; id: string };
    createdAfter?: number;
    createdBefore?: number;
    /** Only sessions whose id matches this glob (a key's session glob). */
    sessions?: string;
  }): Promise<ActivityRow[]> {
    return this.ids.sessionsByActivity({ ...q, now: this.o.clock(), exclude: NO_SESSION });
  }

  /** Sets the expiry of the artifact behind `artId`; throws as {@link resolve}, SessionSealedError. */
  async setExpiry(artId: string, expiresAt: number | null): Promise<ArtifactRecord> {
    const rec = await this.resolve(artId);
    const done = await this.ids.setArtifactExpiry(rec.id, expiresAt, this.o.clock());
    if (done === 'sealed') throw new SessionSealedError(rec.session);
    await this.ids.update(artId, { expiresAt });
    return this.resolve(artId);
  }

  /** Bytes of every stored artifact (before dedupe) and the number of artifacts. */
  async usage(): Promise<{ bytes: number; artifacts: number }> {
    const c = await this.o.catalog.stats.counts();
    return { bytes: c.artifactBytes, artifacts: c.artifacts };
  }
}
