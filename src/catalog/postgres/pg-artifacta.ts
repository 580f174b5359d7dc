import type { ActivityRow, ArtifactaCatalog, ArtifactaIdRow } from '../artifacta-catalog.js';
import type { PgDb } from './pg-db.js';
import { globToRegex } from './pg-glob.js';

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

/** {@link ArtifactaCatalog} on PostgreSQL (mirrors sqlite-artifacta.ts). */
export class PgArtifacta implements ArtifactaCatalog {
  constructor(private readonly db: PgDb) {}

  async pair(
    rows: { id: string; kind: ArtifactaIdRow['kind']; cairnId: string; expiresAt: number | null }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (rows.length === 0) return out;
    const find = async () => {
      const hits = await this.db.all<{ id: string; cairn_id: string }>(
        'SELECT id, cairn_id FROM artifacta_ids WHERE cairn_id = ANY($1::text[])',
        [rows.map((r) => r.cairnId)],
      );
      for (const h of hits) out.set(h.cairn_id, h.id);
    };
    await find();
    const missing = rows.filter((r) => !out.has(r.cairnId));
    if (missing.length === 0) return out;
    await this.db.tx(async (t) => {
      for (const r of missing)
        await t.run(
          'INSERT INTO artifacta_ids (id, kind, cairn_id, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
          [r.id, r.kind, r.cairnId, r.expiresAt],
        );
    });
    await find();
    return out;
  }

  async get(id: string): Promise<ArtifactaIdRow | null> {
    const r = await this.db.get<IdDbRow>('SELECT * FROM artifacta_ids WHERE id = $1', [id]);
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
    await this.db.run(`INSERT INTO artifacta_ids (id, kind, upload) VALUES ($1, 'artifact', $2)`, [
      id,
      upload,
    ]);
  }

  async update(id: string, patch: Partial<Omit<ArtifactaIdRow, 'id' | 'kind'>>): Promise<boolean> {
    const keys = Object.keys(patch).filter((k) => k in COLUMNS);
    if (keys.length === 0) return (await this.get(id)) !== null;
    const set = keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ');
    return this.db.tx(async (t) => {
      // The upload's own id wins over a pairing a reader made meanwhile (see sqlite-artifacta).
      if (patch.cairnId)
        await t.run(
          'DELETE FROM artifacta_ids WHERE cairn_id = $1 AND id != $2 AND upload IS NULL',
          [patch.cairnId, id],
        );
      const params: Record<string, unknown> = { id };
      for (const k of keys) params[k] = (patch as Record<string, unknown>)[k];
      return (await t.run(`UPDATE artifacta_ids SET ${set} WHERE id = @id`, params)) > 0;
    });
  }

  async setPage(id: string, page: { secret: string; json: string } | null): Promise<void> {
    await this.db.tx(async (t) => {
      await t.run('DELETE FROM artifacta_pages WHERE artifacta_id = $1', [id]);
      if (page)
        await t.run('INSERT INTO artifacta_pages (secret, artifacta_id) VALUES ($1, $2)', [
          page.secret,
          id,
        ]);
      await t.run('UPDATE artifacta_ids SET page = $1 WHERE id = $2', [page?.json ?? null, id]);
    });
  }

  async pageOwner(secret: string): Promise<string | null> {
    const r = await this.db.get<{ artifacta_id: string }>(
      'SELECT artifacta_id FROM artifacta_pages WHERE secret = $1',
      [secret],
    );
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
    const params: Record<string, unknown> = { now: q.now, exclude: q.exclude, limit: q.limit };
    const where = [
      '(s.pinned = 1 OR s.expires_at IS NULL OR s.expires_at > @now)',
      's.id != @exclude::text',
    ];
    if (q.sessions !== undefined) {
      const re = globToRegex(q.sessions);
      if (re === null) return [];
      params.sessions = re;
      where.push('s.id ~ @sessions::text');
    }
    if (q.createdAfter !== undefined) {
      params.createdAfter = q.createdAfter;
      where.push('s.created_at >= @createdAfter');
    }
    if (q.createdBefore !== undefined) {
      params.createdBefore = q.createdBefore;
      where.push('s.created_at < @createdBefore');
    }
    if (q.after) {
      params.afterAt = q.after.activeAt;
      params.afterId = q.after.id;
      where.push(
        '(s.updated_at < @afterAt OR (s.updated_at = @afterAt AND s.id < @afterId::text))',
      );
    }
    return this.db.all<ActivityRow>(
      `SELECT s.id AS id, s.artifact_count AS "artifactCount", s.sealed_at AS "sealedAt",
         s.created_at AS "createdAt", s.updated_at AS "activeAt",
         (SELECT min(a.created_at) FROM artifacts a WHERE a.session_seq = s.seq) AS "firstArtifactAt",
         (SELECT max(a.created_at) FROM artifacts a WHERE a.session_seq = s.seq) AS "lastArtifactAt"
       FROM sessions s WHERE ${where.join(' AND ')}
       ORDER BY s.updated_at DESC, s.id DESC LIMIT @limit`,
      params,
    );
  }

  async setArtifactExpiry(
    cairnId: string,
    expiresAt: number | null,
    now: number,
  ): Promise<'ok' | 'sealed' | 'missing'> {
    return this.db.tx(async (t) => {
      const row = await t.get<{ sealed_at: number | null; expires_at: number | null }>(
        `SELECT s.sealed_at, a.expires_at FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE a.id = $1`,
        [cairnId],
      );
      if (!row || (row.expires_at !== null && row.expires_at <= now)) return 'missing';
      if (row.sealed_at !== null) return 'sealed';
      await t.run('UPDATE artifacts SET expires_at = $1 WHERE id = $2', [expiresAt, cairnId]);
      return 'ok';
    });
  }
}
