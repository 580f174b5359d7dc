import type Database from 'better-sqlite3';
import type { ActivityRow, ArtifactaCatalog, ArtifactaIdRow } from '../artifacta-catalog.js';
import type { WriteBatcher } from './write-batcher.js';

interface IdDbRow {
  id: string;
  kind: ArtifactaIdRow['kind'];
  cairn_id: string | null;
  expires_at: number | null;
  deleted_at: number | null;
  upload: string | null;
  page: string | null;
}

const COLUMNS: Record<string, string> = {
  cairnId: 'cairn_id',
  expiresAt: 'expires_at',
  deletedAt: 'deleted_at',
  upload: 'upload',
  page: 'page',
};

/** {@link ArtifactaCatalog} over the SQLite catalog's connection and write batcher. */
export class SqliteArtifacta implements ArtifactaCatalog {
  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {}

  async pair(
    rows: {
      id: string;
      kind: ArtifactaIdRow['kind'];
      cairnId: string;
      expiresAt: number | null;
    }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (rows.length === 0) return out;
    const find = this.db.prepare<[string], { id: string }>(
      'SELECT id FROM artifacta_ids WHERE cairn_id = ?',
    );
    const missing = rows.filter((r) => {
      const hit = find.get(r.cairnId);
      if (hit) out.set(r.cairnId, hit.id);
      return !hit;
    });
    if (missing.length === 0) return out;
    await this.batch.run(() => {
      const insert = this.db.prepare(
        `INSERT OR IGNORE INTO artifacta_ids (id, kind, cairn_id, expires_at) VALUES (?, ?, ?, ?)`,
      );
      for (const r of missing) insert.run(r.id, r.kind, r.cairnId, r.expiresAt);
    });
    for (const r of missing) {
      const hit = find.get(r.cairnId);
      if (hit) out.set(r.cairnId, hit.id);
    }
    return out;
  }

  async get(id: string): Promise<ArtifactaIdRow | null> {
    const r = this.db
      .prepare<[string], IdDbRow>('SELECT * FROM artifacta_ids WHERE id = ?')
      .get(id);
    return r
      ? {
          id: r.id,
          kind: r.kind,
          cairnId: r.cairn_id,
          expiresAt: r.expires_at,
          deletedAt: r.deleted_at,
          upload: r.upload,
          page: r.page,
        }
      : null;
  }

  async addPending(id: string, upload: string): Promise<void> {
    await this.batch.run(() =>
      this.db
        .prepare(`INSERT INTO artifacta_ids (id, kind, upload) VALUES (?, 'artifact', ?)`)
        .run(id, upload),
    );
  }

  async update(id: string, patch: Partial<Omit<ArtifactaIdRow, 'id' | 'kind'>>): Promise<boolean> {
    const keys = Object.keys(patch).filter((k) => k in COLUMNS);
    if (keys.length === 0) return (await this.get(id)) !== null;
    const set = keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ');
    return this.batch.run(() => {
      // A reader may have paired the Cairn id with a derived id between a two-phase upload's
      // push and this pairing: the upload's own id wins (it is the one its caller holds).
      if (patch.cairnId)
        this.db
          .prepare('DELETE FROM artifacta_ids WHERE cairn_id = ? AND id != ? AND upload IS NULL')
          .run(patch.cairnId, id);
      return (
        this.db.prepare(`UPDATE artifacta_ids SET ${set} WHERE id = @id`).run({ ...patch, id })
          .changes > 0
      );
    });
  }

  async setPage(id: string, page: { secret: string; json: string } | null): Promise<void> {
    await this.batch.run(() => {
      this.db.prepare('DELETE FROM artifacta_pages WHERE artifacta_id = ?').run(id);
      if (page)
        this.db
          .prepare('INSERT INTO artifacta_pages (secret, artifacta_id) VALUES (?, ?)')
          .run(page.secret, id);
      this.db.prepare('UPDATE artifacta_ids SET page = ? WHERE id = ?').run(page?.json ?? null, id);
    });
  }

  async pageOwner(secret: string): Promise<string | null> {
    const r = this.db
      .prepare<[string], { artifacta_id: string }>(
        'SELECT artifacta_id FROM artifacta_pages WHERE secret = ?',
      )
      .get(secret);
    return r?.artifacta_id ?? null;
  }

  async sessionsByActivity(q: {
    now: number;
    limit: number;
    after?: { activeAt: number; id: string };
    createdAfter?: number;
    createdBefore?: number;
    exclude: string;
    sessions?: string;
  }): Promise<ActivityRow[]> {
    const where = [
      '(s.pinned = 1 OR s.expires_at IS NULL OR s.expires_at > @now)',
      's.id != @exclude',
    ];
    if (q.sessions !== undefined) where.push('s.id GLOB @sessions');
    if (q.createdAfter !== undefined) where.push('s.created_at >= @createdAfter');
    if (q.createdBefore !== undefined) where.push('s.created_at < @createdBefore');
    if (q.after)
      where.push('(s.updated_at < @afterAt OR (s.updated_at = @afterAt AND s.id < @afterId))');
    return this.db
      .prepare<Record<string, unknown>, ActivityRow>(
        `SELECT s.id AS id, s.artifact_count AS artifactCount, s.sealed_at AS sealedAt,
           s.created_at AS createdAt, s.updated_at AS activeAt,
           (SELECT min(a.created_at) FROM artifacts a WHERE a.session_seq = s.seq) AS firstArtifactAt,
           (SELECT max(a.created_at) FROM artifacts a WHERE a.session_seq = s.seq) AS lastArtifactAt
         FROM sessions s WHERE ${where.join(' AND ')}
         ORDER BY s.updated_at DESC, s.id DESC LIMIT @limit`,
      )
      .all({
        now: q.now,
        exclude: q.exclude,
        limit: q.limit,
        ...(q.sessions === undefined ? {} : { sessions: q.sessions }),
        ...(q.createdAfter === undefined ? {} : { createdAfter: q.createdAfter }),
        ...(q.createdBefore === undefined ? {} : { createdBefore: q.createdBefore }),
        ...(q.after ? { afterAt: q.after.activeAt, afterId: q.after.id } : {}),
      });
  }

  async setArtifactExpiry(
    cairnId: string,
    expiresAt: number | null,
    now: number,
  ): Promise<'ok' | 'sealed' | 'missing'> {
    return this.batch.run(() => {
      const row = this.db
        .prepare<[string], { sealed_at: number | null; expires_at: number | null }>(
          `SELECT s.sealed_at, a.expires_at FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
           WHERE a.id = ?`,
        )
        .get(cairnId);
      if (!row || (row.expires_at !== null && row.expires_at <= now)) return 'missing';
      if (row.sealed_at !== null) return 'sealed';
      this.db.prepare('UPDATE artifacts SET expires_at = ? WHERE id = ?').run(expiresAt, cairnId);
      return 'ok';
    });
  }
}
