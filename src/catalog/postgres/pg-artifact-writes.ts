import {
  BlobCollectedError,
  InvalidInputError,
  NotFoundError,
  SessionSealedError,
} from '../../lib/errors.js';
import type { NewArtifact } from '../catalog.js';
import { artifactExpiry } from '../../core/lifecycle.js';
import { sessionLife, type ArtifactRow, type SessionRow } from '../sqlite/rows.js';
import type { Queryable } from './pg-db.js';
import { globToRegex, pgText } from './pg-glob.js';
import { isSessionExpired, promoteLatest, purgeIfExpired } from './pg-row-drops.js';
import { ARTIFACT_COLUMNS, ARTIFACT_LIVE, BLOB_REF, NEXT_VERSION } from './pg-sql.js';

/** The columns of a session a push reads. */
type PushSession = Pick<SessionRow, 'seq' | 'pinned' | 'expires_at' | 'sealed_at'>;

/**
 * Inserts an artifact inside the caller's transaction (creating its session if needed); returns
 * the new row. Mirrors sqlite/artifact-writes.ts.
 */
export async function addArtifactRow(t: Queryable, a: NewArtifact): Promise<ArtifactRow> {
  // The session row is locked first, by every write of a session's rows (push, delete, prune):
  // taken later, after a blob row, two such writes could each hold what the other waits for.
  const pick = 'SELECT seq, pinned, expires_at, sealed_at FROM sessions WHERE id = $1 FOR UPDATE';
  let session = await t.get<PushSession>(pick, [a.session]);
  if (session && isSessionExpired(session, a.createdAt)) {
    await purgeIfExpired(t, a.session, a.createdAt);
    session = undefined;
  }
  if (!session) {
    session = await t.get<PushSession>(
      `INSERT INTO sessions (id, meta, created_at, updated_at, expires_at) VALUES ($1, '{}', $2, $2, $3)
       RETURNING seq, pinned, expires_at, sealed_at`,
      [a.session, a.createdAt, a.sessionExpiresAt],
    );
    if (!session) throw new Error('session insert returned nothing');
  }
  if (session.sealed_at !== null) throw new SessionSealedError(a.session);
  const glob = a.parentSessions ?? null;
  const re = glob === null ? null : globToRegex(glob);
  for (const parent of a.derivedFrom) {
    const live =
      glob !== null && re === null
        ? undefined
        : await t.get(
            `SELECT 1 AS one FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
             WHERE a.id = @id AND ${ARTIFACT_LIVE} AND (@re::text IS NULL OR s.id ~ @re::text)`,
            { id: parent, now: a.createdAt, re },
          );
    if (!live)
      throw new InvalidInputError(
        'invalid_derived_from',
        `derived_from names '${parent}', which is not a known artifact id (or it has expired)`,
      );
  }
  const next = await t.get<{ version: number }>(NEXT_VERSION, { seq: session.seq, name: a.name });
  const version = next?.version ?? 1;
  if (version > 1)
    await t.run(
      'UPDATE artifacts SET is_latest = 0 WHERE session_seq = $1 AND name = $2 AND is_latest = 1',
      [session.seq, a.name],
    );
  if ((await t.run(BLOB_REF, [a.sha256, a.size])) === 0) throw new BlobCollectedError(a.sha256);
  if (a.leaseId !== undefined) await t.run('DELETE FROM blob_leases WHERE id = $1', [a.leaseId]);
  const meta = JSON.stringify(a.meta);
  const inserted = await t.get<{ seq: number }>(
    `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, expires_at, is_latest)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) RETURNING seq`,
    [
      a.id,
      session.seq,
      a.name,
      version,
      a.sha256,
      a.size,
      a.contentType,
      meta,
      a.createdAt,
      a.expiresAt,
    ],
  );
  const seq = inserted?.seq as number;
  const entries = Object.entries(a.meta);
  if (entries.length > 0)
    await t.run(
      'INSERT INTO artifact_meta (key, value, artifact_seq) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS m(k, v)',
      [entries.map((e) => e[0]), entries.map((e) => pgText(e[1])), seq],
    );
  const parents = [...new Set(a.derivedFrom)];
  if (parents.length > 0)
    await t.run(
      'INSERT INTO lineage (child_seq, parent_id) SELECT $1, p FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING',
      [seq, parents],
    );
  await t.run(
    'UPDATE sessions SET artifact_count = artifact_count + 1, total_bytes = total_bytes + $1, updated_at = $2 WHERE seq = $3',
    [a.size, a.createdAt, session.seq],
  );
  return {
    seq,
    id: a.id,
    session: a.session,
    name: a.name,
    version,
    sha256: a.sha256,
    size: a.size,
    content_type: a.contentType,
    meta,
    created_at: a.createdAt,
    expires_at: artifactExpiry(sessionLife(session), { version, expiresAt: a.expiresAt }),
    derived_from: parents.length > 0 ? JSON.stringify(parents) : null,
  };
}

/**
 * Deletes a live artifact of an open session inside the caller's transaction (NotFoundError
 * if it is not live at `now`). Returns its row (read before deletion) and whether its blob
 * lost its last reference.
 */
export async function removeArtifactRow(
  t: Queryable,
  id: string,
  now: number,
): Promise<{ row: ArtifactRow; unreferenced: boolean }> {
  const raw = await t.get<{ seq: number; session_seq: number; name: string; is_latest: number }>(
    'SELECT seq, session_seq, name, is_latest FROM artifacts WHERE id = $1',
    [id],
  );
  // The session row first (see addArtifactRow), then the artifact's.
  const session =
    raw &&
    ((await t.get<SessionRow>('SELECT * FROM sessions WHERE seq = $1 FOR UPDATE', [
      raw.session_seq,
    ])) as SessionRow);
  // An expired row is gone for reads: deleting it is not found, whether swept yet or not.
  const row =
    raw &&
    (await t.get<ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
       WHERE a.seq = @seq AND ${ARTIFACT_LIVE}`,
      { seq: raw.seq, now },
    ));
  if (!raw || !session || !row) throw new NotFoundError(`artifact '${id}' not found`);
  if (session.sealed_at !== null) throw new SessionSealedError(session.id);
  const gone = await t.get<{ sha256: string; size: number }>(
    'DELETE FROM artifacts WHERE seq = $1 RETURNING sha256, size',
    [raw.seq],
  );
  if (!gone) throw new NotFoundError(`artifact '${id}' not found`);
  if (raw.is_latest) await promoteLatest(t, raw.session_seq, raw.name);
  await t.run(
    'UPDATE sessions SET artifact_count = artifact_count - 1, total_bytes = total_bytes - $1, updated_at = $2 WHERE seq = $3',
    [gone.size, now, raw.session_seq],
  );
  const left = await t.get<{ refs: number }>(
    'UPDATE blobs SET refs = refs - 1 WHERE sha256 = $1 RETURNING refs',
    [gone.sha256],
  );
  return { row, unreferenced: (left?.refs ?? 0) <= 0 };
}
