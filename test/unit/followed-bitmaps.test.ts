import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { FollowedBitmaps } from '../../src/catalog/sqlite/followed-bitmaps.js';
import { bulkArtifacts } from '../helpers/bulk-catalog.js';
import { tempDir } from '../helpers/server.js';

// The read workers' bitmaps live beside a connection that never writes: rows the writer adds
// must show up in them (a missing bit would hide a match), including a reused seq.
let dir: string;
let catalog: SqliteCatalog;
let reader: Database.Database;

beforeEach(() => {
  dir = tempDir();
  catalog = SqliteCatalog.open({ dir, durability: 'process' });
  bulkArtifacts(catalog.db, 100, { metaOf: (i) => ({ color: i % 2 ? 'red' : 'blue' }) });
  reader = new Database(join(dir, 'catalog.db'), { readonly: true });
});
afterEach(async () => {
  reader.close();
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

const push = (id: string, name: string, meta: Record<string, string>) =>
  catalog.addArtifact({
    id,
    session: 's',
    name,
    sha256: '00',
    size: 1,
    contentType: 'text/plain',
    meta,
    createdAt: 1000,
    expiresAt: null,
    derivedFrom: [],
    sessionExpiresAt: null,
  });

/** The bitmap of color=`value`, built (asked twice) if it was not. */
const colorMap = (f: FollowedBitmaps, value: string) => {
  const b = f.current();
  return b.get('color', value) ?? b.get('color', value);
};

describe('FollowedBitmaps', () => {
  it('adds the artifacts the writer commits after a bitmap was built', async () => {
    const f = new FollowedBitmaps(reader);
    expect(colorMap(f, 'green')?.has(101)).toBe(false);
    const a = await push('a_00000000000000000000000101', 'late', { color: 'green' });
    expect(a.id).toBe('a_00000000000000000000000101');
    expect(f.current().get('color', 'green')?.has(101)).toBe(true);
    expect(f.current().get('color', 'red')).toBeNull(); // asked once: not built
  });

  it('starts over when the newest seq it saw was deleted and taken again', async () => {
    const f = new FollowedBitmaps(reader);
    await push('a_00000000000000000000000101', 'late', { color: 'blue' });
    expect(colorMap(f, 'green')?.has(101)).toBe(false);
    // Delete the newest artifact, then push another: it takes seq 101 again, with green.
    await catalog.deleteArtifact('a_00000000000000000000000101', Date.now());
    const again = await push('a_00000000000000000000000102', 'again', { color: 'green' });
    const seq = catalog.db.prepare('SELECT seq FROM artifacts WHERE id = ?').pluck().get(again.id);
    expect(seq).toBe(101);
    const map = colorMap(f, 'green');
    expect(map?.has(101)).toBe(true);
  });
});
