import type { DumpKind } from './dump-catalog.js';

/** A row as the driver returns it, before {@link KindSql.shape}. */
export type Row = Record<string, unknown>;

/** How one kind is read: its rows after a cursor, keyset-paged, and how many there are. */
export interface KindSql {
  /** FROM … WHERE clause shared by the count and the page (no ORDER BY). */
  from: string;
  columns: string;
  /** The condition "after the cursor", on parameters @k1 (and @k2 for a two-column key). */
  after: string;
  order: string;
  /** The cursor of a row. */
  key: (r: Row) => unknown[];
  shape: (r: Row) => unknown;
}

const bool = (v: unknown) => v === 1;
const json = (v: unknown) => JSON.parse(v as string) as unknown;

/**
 * How each kind of a logical dump is read from the catalog's tables, the same for every SQL
 * catalog (their schemas share these tables and columns): `derivedFrom` is the dialect's
 * expression for an artifact `a`'s parent ids as a JSON array text, in id order.
 */
export function dumpKindSql(derivedFrom: string): Record<DumpKind, KindSql> {
  return {
    blobs: {
      from: 'FROM blobs WHERE refs > 0',
      columns: 'sha256, size, refs',
      after: 'sha256 > @k1',
      order: 'sha256',
      key: (r) => [r.sha256],
      shape: (r) => r,
    },
    sessions: {
      from: 'FROM sessions s LEFT JOIN session_seal_keys k ON k.session_seq = s.seq WHERE true',
      columns: `s.seq, s.id, s.meta, s.created_at, s.updated_at, s.expires_at, s.pinned, s.sealed_at,
      s.digest, s.signature, s.keep_versions, s.artifact_count, s.total_bytes, k.key_id,
      k.public_key_pem`,
      after: 's.seq > @k1',
      order: 's.seq',
      key: (r) => [r.seq],
      shape: (r) => ({
        id: r.id,
        meta: json(r.meta),
        created_at: r.created_at,
        updated_at: r.updated_at,
        expires_at: r.expires_at,
        pinned: bool(r.pinned),
        sealed_at: r.sealed_at,
        digest: r.digest,
        signature: r.signature,
        keep_versions: r.keep_versions,
        artifact_count: r.artifact_count,
        total_bytes: r.total_bytes,
        seal_key: r.key_id ? { key_id: r.key_id, public_key_pem: r.public_key_pem } : null,
      }),
    },
    artifacts: {
      from: 'FROM artifacts a JOIN sessions s ON s.seq = a.session_seq WHERE true',
      columns: `a.seq, a.id, s.id AS session, a.name, a.version, a.sha256, a.size, a.content_type,
      a.meta, a.created_at, a.expires_at, a.is_latest,
      ${derivedFrom} AS derived_from`,
      after: 'a.seq > @k1',
      order: 'a.seq',
      key: (r) => [r.seq],
      shape: (r) => ({
        id: r.id,
        session: r.session,
        name: r.name,
        version: r.version,
        sha256: r.sha256,
        size: r.size,
        content_type: r.content_type,
        meta: json(r.meta),
        created_at: r.created_at,
        expires_at: r.expires_at,
        latest: bool(r.is_latest),
        derived_from: json(r.derived_from),
      }),
    },
    version_counters: {
      from: 'FROM version_counters v JOIN sessions s ON s.seq = v.session_seq WHERE true',
      columns: 'v.session_seq, s.id AS session, v.name, v.version',
      after: '(v.session_seq > @k1 OR (v.session_seq = @k1 AND v.name > @k2))',
      order: 'v.session_seq, v.name',
      key: (r) => [r.session_seq, r.name],
      shape: (r) => ({ session: r.session, name: r.name, version: r.version }),
    },
    tokens: {
      from: 'FROM tokens WHERE true',
      columns: 'id, name, hash, scope, sessions, created_at, last_used_at',
      after: 'id > @k1',
      order: 'id',
      key: (r) => [r.id],
      shape: (r) => r,
    },
    shares: {
      from: 'FROM shares WHERE true',
      columns: `id, token_hash, artifact_id, session_id, session_created_at, created_at, expires_at,
      max_downloads, downloads, last_access_at, revoked_at, created_by`,
      after: 'id > @k1',
      order: 'id',
      key: (r) => [r.id],
      shape: (r) => r,
    },
    artifacta_ids: {
      from: 'FROM artifacta_ids WHERE true',
      columns: 'id, kind, cairn_id, expires_at, deleted_at, upload, page',
      after: 'id > @k1',
      order: 'id',
      key: (r) => [r.id],
      shape: (r) => r,
    },
    artifacta_pages: {
      from: 'FROM artifacta_pages WHERE true',
      columns: 'secret, artifacta_id',
      after: 'secret > @k1',
      order: 'secret',
      key: (r) => [r.secret],
      shape: (r) => r,
    },
    idempotency: {
      from: 'FROM idempotency WHERE status <> 0',
      columns: 'key, status, body, created_at, request',
      after: 'key > @k1',
      order: 'key',
      key: (r) => [r.key],
      shape: (r) => r,
    },
    secrets: {
      from: 'FROM secrets WHERE true',
      columns: 'name, value',
      after: 'name > @k1',
      order: 'name',
      key: (r) => [r.name],
      shape: (r) => r,
    },
  };
}
