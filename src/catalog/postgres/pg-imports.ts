import type { PublicKeyInfo } from '../../core/signer.js';
import type { StoredSession } from '../stored-rows.js';
import { BlobCollectedError, ConflictError } from '../../lib/errors.js';
import type { ImportCatalog, ImportedSession } from '../import-catalog.js';
import type { PgDb, Queryable } from './pg-db.js';
import { pgText } from './pg-glob.js';
import { purgeIfExpired } from './pg-row-drops.js';
import { sessionArtifactRows, sessionAt } from './pg-session-writes.js';
import { appendEvents } from './pg-event-rows.js';
import { artifactEventData, sessionEventData } from '../event-payload.js';
import { BLOB_REF } from './pg-sql.js';

/** {@link ImportCatalog} on PostgreSQL (mirrors sqlite-imports.ts). */
export class PgImports implements ImportCatalog {
  constructor(private readonly db: PgDb) {}

  async importSession(s: ImportedSession): Promise<StoredSession> {
    return this.db.tx(async (t) => {
      await purgeIfExpired(t, s.id, s.now);
      if (await t.get('SELECT 1 FROM sessions WHERE id = $1', [s.id]))
        throw new ConflictError('session_exists', `session '${s.id}' already exists here`);
      const taken = await t.get<{ id: string }>(
        'SELECT id FROM artifacts WHERE id = ANY($1::text[]) LIMIT 1',
        [s.artifacts.map((a) => a.id)],
      );
      if (taken)
        throw new ConflictError(
          'artifact_exists',
          `artifact ${taken.id} already exists here in another session; this export was imported before under another session id`,
        );
      const total = s.artifacts.reduce((n, a) => n + a.size, 0);
      const { seq } = (await t.get<{ seq: number }>(
        `INSERT INTO sessions (id, meta, created_at, updated_at, expires_at, sealed_at, digest, signature, artifact_count, total_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq`,
        [
          s.id,
          JSON.stringify(s.meta),
          s.createdAt,
          s.now,
          s.expiresAt,
          s.sealedAt,
          s.digest,
          s.signature,
          s.artifacts.length,
          total,
        ],
      )) as { seq: number };
      for (const [k, v] of Object.entries(s.meta))
        await t.run('INSERT INTO session_meta (key, value, session_seq) VALUES ($1, $2, $3)', [
          k,
          pgText(v),
          seq,
        ]);
      if (s.sealKey)
        await t.run(
          'INSERT INTO session_seal_keys (session_seq, key_id, public_key_pem) VALUES ($1, $2, $3)',
          [seq, s.sealKey.id, s.sealKey.public_key_pem],
        );
      await insertArtifacts(t, seq, s);
      const session = await sessionAt(t, seq);
      const created = await sessionArtifactRows(t, s.id, s.now);
      await appendEvents(t, [
        ...created.map((a) => ({
          type: 'artifact.created' as const,
          session: s.id,
          data: artifactEventData(a),
        })),
        ...(session.sealedAt !== null
          ? [{ type: 'session.sealed' as const, session: s.id, data: sessionEventData(session) }]
          : []),
      ]);
      return session;
    });
  }

  async sealKey(sessionId: string): Promise<PublicKeyInfo | null> {
    const row = await this.db.get<{ key_id: string; public_key_pem: string }>(
      `SELECT k.key_id, k.public_key_pem FROM session_seal_keys k
       JOIN sessions s ON s.seq = k.session_seq WHERE s.id = $1`,
      [sessionId],
    );
    return row
      ? { id: row.key_id, algorithm: 'ed25519', public_key_pem: row.public_key_pem }
      : null;
  }
}

async function insertArtifacts(
  t: Queryable,
  sessionSeq: number,
  s: ImportedSession,
): Promise<void> {
  const latest = new Map<string, number>();
  for (const a of s.artifacts) latest.set(a.name, Math.max(latest.get(a.name) ?? 0, a.version));
  for (const [name, version] of latest)
    await t.run('INSERT INTO version_counters (session_seq, name, version) VALUES ($1, $2, $3)', [
      sessionSeq,
      name,
      version,
    ]);
  for (const a of s.artifacts) {
    if ((await t.run(BLOB_REF, [a.sha256, a.size])) === 0) throw new BlobCollectedError(a.sha256);
    const { seq } = (await t.get<{ seq: number }>(
      `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, expires_at, is_latest)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10) RETURNING seq`,
      [
        a.id,
        sessionSeq,
        a.name,
        a.version,
        a.sha256,
        a.size,
        a.contentType,
        JSON.stringify(a.meta),
        a.createdAt,
        latest.get(a.name) === a.version ? 1 : 0,
      ],
    )) as { seq: number };
    const entries = Object.entries(a.meta);
    if (entries.length > 0)
      await t.run(
        'INSERT INTO artifact_meta (key, value, artifact_seq) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS m(k, v)',
        [entries.map((e) => e[0]), entries.map((e) => pgText(e[1])), seq],
      );
    if (a.derivedFrom.length > 0)
      await t.run(
        'INSERT INTO lineage (child_seq, parent_id) SELECT $1, p FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING',
        [seq, a.derivedFrom],
      );
  }
}
