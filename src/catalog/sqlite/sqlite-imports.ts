import type Database from 'better-sqlite3';
import type { PublicKeyInfo } from '../../core/signer.js';
import type { StoredSession } from '../stored-rows.js';
import { BlobCollectedError, ConflictError } from '../../lib/errors.js';
import type { ImportCatalog, ImportedSession } from '../import-catalog.js';
import { sessionAt } from './rows.js';
import { purgeIfExpired } from './row-drops.js';
import type { MetaBitmaps } from './meta-bitmaps.js';
import type { WriteBatcher } from './write-batcher.js';
import { appendEvent } from './event-rows.js';
import { artifactEventData, sessionEventData } from '../event-payload.js';
import { catalogReads } from './catalog-reads.js';

/** {@link ImportCatalog} over the SQLite catalog's connection and write batcher. */
export class SqliteImports implements ImportCatalog {
  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
    private readonly bitmaps: MetaBitmaps,
  ) {}

  async importSession(s: ImportedSession): Promise<StoredSession> {
    return this.batch.run(() => {
      const db = this.db;
      purgeIfExpired(db, s.id, s.now);
      if (db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(s.id))
        throw new ConflictError('session_exists', `session '${s.id}' already exists here`);
      const taken = db.prepare<[string], { one: number }>(
        'SELECT 1 AS one FROM artifacts WHERE id = ?',
      );
      for (const a of s.artifacts) {
        if (taken.get(a.id))
          throw new ConflictError(
            'artifact_exists',
            `artifact ${a.id} already exists here in another session; this export was imported before under another session id`,
          );
      }
      const total = s.artifacts.reduce((n, a) => n + a.size, 0);
      const seq = Number(
        db
          .prepare(
            `INSERT INTO sessions (id, meta, created_at, updated_at, expires_at, sealed_at, digest, signature, artifact_count, total_bytes)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
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
          ).lastInsertRowid,
      );
      const smeta = db.prepare(
        'INSERT INTO session_meta (key, value, session_seq) VALUES (?, ?, ?)',
      );
      for (const [k, v] of Object.entries(s.meta)) smeta.run(k, v, seq);
      if (s.sealKey)
        db.prepare(
          'INSERT INTO session_seal_keys (session_seq, key_id, public_key_pem) VALUES (?, ?, ?)',
        ).run(seq, s.sealKey.id, s.sealKey.public_key_pem);
      this.insertArtifacts(seq, s);
      const session = sessionAt(db, seq);
      for (const a of catalogReads.sessionArtifacts(db, s.id, s.now))
        appendEvent(db, 'artifact.created', s.id, artifactEventData(a));
      if (session.sealedAt !== null)
        appendEvent(db, 'session.sealed', s.id, sessionEventData(session));
      return session;
    });
  }

  private insertArtifacts(sessionSeq: number, s: ImportedSession): void {
    const latest = new Map<string, number>();
    for (const a of s.artifacts) latest.set(a.name, Math.max(latest.get(a.name) ?? 0, a.version));
    // A marked row is being collected: its bytes may be gone (see BlobCatalog.markBlob).
    const blobRef = this.db.prepare(
      `INSERT INTO blobs (sha256, size, refs) VALUES (?, ?, 1)
       ON CONFLICT(sha256) DO UPDATE SET refs = refs + 1 WHERE gc_mark IS NULL`,
    );
    const counter = this.db.prepare(
      'INSERT INTO version_counters (session_seq, name, version) VALUES (?, ?, ?)',
    );
    for (const [name, version] of latest) counter.run(sessionSeq, name, version);
    const insert = this.db.prepare(
      `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, expires_at, is_latest)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
    );
    const meta = this.db.prepare(
      'INSERT INTO artifact_meta (key, value, artifact_seq) VALUES (?, ?, ?)',
    );
    const lineage = this.db.prepare(
      'INSERT OR IGNORE INTO lineage (child_seq, parent_id) VALUES (?, ?)',
    );
    for (const a of s.artifacts) {
      if (blobRef.run(a.sha256, a.size).changes === 0) throw new BlobCollectedError(a.sha256);
      const seq = Number(
        insert.run(
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
        ).lastInsertRowid,
      );
      for (const [k, v] of Object.entries(a.meta)) meta.run(k, v, seq);
      this.bitmaps.added(seq, a.meta);
      for (const p of a.derivedFrom) lineage.run(seq, p);
    }
  }

  async sealKey(sessionId: string): Promise<PublicKeyInfo | null> {
    const row = this.db
      .prepare<[string], { key_id: string; public_key_pem: string }>(
        `SELECT k.key_id, k.public_key_pem FROM session_seal_keys k
         JOIN sessions s ON s.seq = k.session_seq WHERE s.id = ?`,
      )
      .get(sessionId);
    return row
      ? { id: row.key_id, algorithm: 'ed25519', public_key_pem: row.public_key_pem }
      : null;
  }
}
