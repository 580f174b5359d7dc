import type { ShareCatalog, StoredShare } from '../share-catalog.js';
import type { PgDb } from './pg-db.js';
import { globToRegex } from './pg-glob.js';

interface ShareDbRow {
  id: string;
  token_hash: string;
  artifact_id: string | null;
  session_id: string | null;
  session_created_at: number | null;
  created_at: number;
  expires_at: number;
  max_downloads: number | null;
  downloads: number;
  last_access_at: number | null;
  revoked_at: number | null;
  created_by: string | null;
}

function toShare(r: ShareDbRow): StoredShare {
  return {
    id: r.id,
    tokenHash: r.token_hash,
    artifactId: r.artifact_id,
    sessionId: r.session_id,
    sessionCreatedAt: r.session_created_at,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    maxDownloads: r.max_downloads,
    downloads: r.downloads,
    lastAccessAt: r.last_access_at,
    revokedAt: r.revoked_at,
    createdBy: r.created_by,
  };
}

/** {@link ShareCatalog} on PostgreSQL (mirrors sqlite-shares.ts). */
export class PgShares implements ShareCatalog {
  constructor(private readonly db: PgDb) {}

  async add(s: StoredShare): Promise<void> {
    await this.db.run(
      `INSERT INTO shares (id, token_hash, artifact_id, session_id, session_created_at,
         created_at, expires_at, max_downloads, downloads, last_access_at, revoked_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, NULL, NULL, $9)`,
      [
        s.id,
        s.tokenHash,
        s.artifactId,
        s.sessionId,
        s.sessionCreatedAt,
        s.createdAt,
        s.expiresAt,
        s.maxDownloads,
        s.createdBy,
      ],
    );
  }

  async byHash(tokenHash: string): Promise<StoredShare | null> {
    const r = await this.db.get<ShareDbRow>('SELECT * FROM shares WHERE token_hash = $1', [
      tokenHash,
    ]);
    return r ? toShare(r) : null;
  }

  async get(id: string): Promise<StoredShare | null> {
    const r = await this.db.get<ShareDbRow>('SELECT * FROM shares WHERE id = $1', [id]);
    return r ? toShare(r) : null;
  }

  async list(limit: number, sessions?: string): Promise<StoredShare[]> {
    const order = 'ORDER BY created_at DESC, id DESC LIMIT $1';
    if (sessions === undefined)
      return (await this.db.all<ShareDbRow>(`SELECT * FROM shares ${order}`, [limit])).map(toShare);
    const re = globToRegex(sessions);
    if (re === null) return [];
    return (
      await this.db.all<ShareDbRow>(`SELECT * FROM shares WHERE session_id ~ $2 ${order}`, [
        limit,
        re,
      ])
    ).map(toShare);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return (
      (await this.db.run('UPDATE shares SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2', [
        now,
        id,
      ])) > 0
    );
  }

  async claimDownload(id: string, now: number): Promise<boolean> {
    // One conditional UPDATE: its row lock serializes claims, so a cap of N admits exactly N.
    return (
      (await this.db.run(
        `UPDATE shares SET downloads = downloads + 1, last_access_at = $2
         WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2
           AND (max_downloads IS NULL OR downloads < max_downloads)`,
        [id, now],
      )) > 0
    );
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.run('UPDATE shares SET last_access_at = $1 WHERE id = $2', [now, id]);
  }
}
