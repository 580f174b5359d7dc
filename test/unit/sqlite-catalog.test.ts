import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/catalog/sqlite/migrations.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import type { NewArtifact } from '../../src/catalog/catalog.js';
import { newId } from '../../src/lib/ids.js';
import { tempDir } from '../helpers/server.js';

describe('SqliteCatalog storage', () => {
  it('uses WAL, foreign keys and the latest migration version', async () => {
    const dir = tempDir();
    const c = SqliteCatalog.open({ dir, durability: 'full' });
    expect(c.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(c.db.pragma('foreign_keys', { simple: true })).toBe(1);
    // NORMAL: `full` durability fsyncs the WAL after each group commit itself (WalSync).
    expect(c.db.pragma('synchronous', { simple: true })).toBe(1);
    await c.close();
    const raw = new Database(join(dir, 'catalog.db'));
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    raw.close();
  });

  it('reopens an existing catalog without re-running migrations and keeps its data', async () => {
    const dir = tempDir();
    const c = SqliteCatalog.open({ dir, durability: 'process' });
    await c.createSession({ id: 'kept', meta: {}, expiresAt: null, now: 1 });
    await c.close();
    const again = SqliteCatalog.open({ dir, durability: 'process' });
    expect((await again.getSession('kept', 2))?.id).toBe('kept');
    await again.close();
  });

  it('answers a 2-key metadata query from the metadata index, not a scan', () => {
    const c = SqliteCatalog.open({ dir: tempDir(), durability: 'process' });
    const plan = c.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT artifact_seq FROM artifact_meta WHERE key = 'a' AND value = 'b'
         INTERSECT SELECT artifact_seq FROM artifact_meta WHERE key = 'c' AND value = 'd'`,
      )
      .all() as { detail: string }[];
    const text = plan.map((p) => p.detail).join('\n');
    expect(text).toMatch(/SEARCH artifact_meta USING PRIMARY KEY \(key=\? AND value=\?\)/);
    expect(text).not.toMatch(/SCAN artifact_meta/);
  });
});

describe('upgrading a catalog', () => {
  it('migration 8 recounts sessions sealed before it: what their manifests hold', async () => {
    const dir = tempDir();
    const c = SqliteCatalog.open({ dir, durability: 'process' });
    const art = (name: string, size: number, expiresAt: number | null) => ({
      id: `a_01J0000000000000000000000${name}`,
      session: 's',
      name,
      sha256: name.repeat(64),
      size,
      contentType: 'text/plain',
      meta: {},
      createdAt: 1,
      expiresAt,
      derivedFrom: [],
      sessionExpiresAt: null,
    });
    await c.addArtifact(art('a', 1, null));
    await c.addArtifact(art('b', 2, 5)); // expired at 5, before the seal at 10
    await c.sealSession('s', 10, () => ({ digest: 'd'.repeat(64), signature: 'sig' }));
    await c.close();
    // As the previous release left it: the expired row counted, user_version 7.
    const raw = new Database(join(dir, 'catalog.db'));
    raw.prepare("UPDATE sessions SET artifact_count = 2, total_bytes = 3 WHERE id = 's'").run();
    undoMigration9(raw);
    raw.pragma('user_version = 7');
    raw.close();
    const again = SqliteCatalog.open({ dir, durability: 'process' });
    const s = await again.getSession('s', 11);
    expect([s?.artifactCount, s?.totalBytes]).toEqual([1, 1]);
    await again.close();
  });
});

/** Takes a catalog back to schema 8, as the release before migration 9 left it. */
function undoMigration9(raw: Database.Database): void {
  raw.exec(`
    CREATE TABLE name_versions (
      session_seq INTEGER NOT NULL REFERENCES sessions(seq) ON DELETE CASCADE,
      name TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (session_seq, name)
    ) WITHOUT ROWID;
    DROP TABLE version_counters;
    DROP TABLE blob_leases;
    ALTER TABLE blobs DROP COLUMN gc_mark;
    ALTER TABLE idempotency DROP COLUMN holder;
    ALTER TABLE idempotency DROP COLUMN lease_until;
  `);
  raw.pragma('user_version = 8');
}

describe('migration 9', () => {
  it('backfills version counters from the rows and from the numbers migration 7 kept', async () => {
    const dir = tempDir();
    const c = SqliteCatalog.open({ dir, durability: 'process' });
    const push = (name: string) => c.addArtifact(fresh(name, 1));
    for (let i = 0; i < 3; i++) await push('kept');
    const gone = await push('deleted');
    await c.close();
    const raw = new Database(join(dir, 'catalog.db'));
    undoMigration9(raw);
    // As migration 7 kept it: 'deleted' reached version 5 before its rows went.
    raw.prepare('DELETE FROM artifacts WHERE id = ?').run(gone.id);
    raw.prepare('UPDATE blobs SET refs = refs - 1').run();
    raw
      .prepare(
        `INSERT INTO name_versions (session_seq, name, version)
         SELECT seq, 'deleted', 5 FROM sessions WHERE id = 's'`,
      )
      .run();
    raw.close();
    const again = SqliteCatalog.open({ dir, durability: 'process' });
    expect((await again.addArtifact(fresh('kept', 2))).version).toBe(4);
    expect((await again.addArtifact(fresh('deleted', 2))).version).toBe(6);
    expect((await again.addArtifact(fresh('new', 2))).version).toBe(1);
    await again.close();
  });
});

/** A new artifact in session 's'. */
function fresh(name: string, createdAt: number): NewArtifact {
  return {
    id: newId('a'),
    session: 's',
    name,
    sha256: 'a'.repeat(64),
    size: 1,
    contentType: 'text/plain',
    meta: {},
    createdAt,
    expiresAt: null,
    derivedFrom: [],
    sessionExpiresAt: null,
  };
}
