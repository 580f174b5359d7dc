import type Database from 'better-sqlite3';
import type { ShareCatalog, StoredShare } from '../share-catalog.js';
import type { WriteBatcher } from './write-batcher.js';

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

/** {@link ShareCatalog} over the SQLite catalog's connection and write batcher. */
export class SqliteShares implements ShareCatalog {
  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {}

  async add(s: StoredShare): Promise<void> {
    await this.batch.run(() =>
      this.db
        .prepare(
          `INSERT INTO shares (id, token_hash, artifact_id, session_id, session_created_at,
             created_at, expires_at, max_downloads, downloads, last_access_at, revoked_at, created_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?)`,
        )
        .run(
          s.id,
          s.tokenHash,
          s.artifactId,
          s.sessionId,
          s.sessionCreatedAt,
          s.createdAt,
          s.expiresAt,
          s.maxDownloads,
          s.createdBy,
        ),
    );
  }

  async byHash(tokenHash: string): Promise<StoredShare | null> {
    const row = this.db
      .prepare<[string], ShareDbRow>('SELECT * FROM shares WHERE token_hash = ?')
      .get(tokenHash);
    return row ? toShare(row) : null;
  }

  async get(id: string): Promise<StoredShare | null> {
    const row = this.db.prepare<[string], ShareDbRow>('SELECT * FROM shares WHERE id = ?').get(id);
    return row ? toShare(row) : null;
  }

  async list(limit: number, sessions?: string): Promise<StoredShare[]> {
    const glob = sessions === undefined ? '' : 'WHERE session_id GLOB @sessions';
    return this.db
      .prepare<Record<string, unknown>, ShareDbRow>(
        `SELECT * FROM shares ${glob} ORDER BY created_at DESC, id DESC LIMIT @limit`,
      )
      .all(sessions === undefined ? { limit } : { limit, sessions })
      .map(toShare);
  }

  async revoke(id: string, now: number): Promise<boolean> {
    return this.batch.run(() => {
      const r = this.db
        .prepare('UPDATE shares SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?')
        .run(now, id);
      return r.changes > 0;
    });
  }

  async claimDownload(id: string, now: number): Promise<boolean> {
    return this.batch.run(
      () =>
        this.db
          .prepare(
            `UPDATE shares SET downloads = downloads + 1, last_access_at = @now
             WHERE id = @id AND revoked_at IS NULL AND expires_at > @now
               AND (max_downloads IS NULL OR downloads < max_downloads)`,
          )
          .run({ id, now }).changes > 0,
    );
  }

  async touch(id: string, now: number): Promise<void> {
    await this.batch.run(() =>
      this.db.prepare('UPDATE shares SET last_access_at = ? WHERE id = ?').run(now, id),
    );
  }
}
