import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/catalog/sqlite/migrations.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { tempDir } from '../helpers/server.js';
import { runCatalogSuite } from './catalog-suite.js';

describe('SqliteCatalog', () =>
  runCatalogSuite(async () => SqliteCatalog.open({ dir: tempDir(), durability: 'full' })));

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
    raw.pragma('user_version = 7');
    raw.close();
    const again = SqliteCatalog.open({ dir, durability: 'process' });
    const s = await again.getSession('s', 11);
    expect([s?.artifact_count, s?.total_bytes]).toEqual([1, 1]);
    await again.close();
  });
});
