import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fewInSessions } from '../../src/catalog/sqlite/artifact-query-plan.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import type { ArtifactQuery } from '../../src/core/types.js';
import { compileGlob } from '../../src/lib/glob.js';
import { tempDir } from '../helpers/server.js';

// The session glob of a token is a condition of the catalog query: every page is full and
// every match is found, whether the glob's sessions hold few artifacts (the query drives from
// the session ids) or many (the newest artifacts are tested row by row).
let dir: string;
let catalog: SqliteCatalog;
/** Every artifact: [seq, session, color], in insertion (= seq) order. */
const rows: [number, string, string][] = [];

beforeAll(() => {
  dir = tempDir();
  catalog = SqliteCatalog.open({ dir, durability: 'process' });
  const db = catalog.db;
  const session = db.prepare(
    'INSERT INTO sessions (id, created_at, updated_at, artifact_count) VALUES (?, 1, 1, ?)',
  );
  const meta = db.prepare(
    "INSERT INTO artifact_meta (key, value, artifact_seq) VALUES ('color', ?, ?)",
  );
  const art = db.prepare(
    `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, is_latest)
     VALUES (?, ?, ?, 1, '00', 1, 'text/plain', '{}', ?, 1)`,
  );
  // Sessions `big_0..2` hold most artifacts; `few_0..9` hold 3 each, spread between them.
  const ids = ['big_0', 'big_1', 'big_2', ...Array.from({ length: 10 }, (_, i) => `few_${i}`)];
  const count = (id: string) => (id.startsWith('big') ? 17_000 : 3);
  db.transaction(() => {
    db.prepare("INSERT INTO blobs (sha256, size, refs) VALUES ('00', 1, 0)").run();
    const seqOf = new Map(
      ids.map((id) => [id, Number(session.run(id, count(id)).lastInsertRowid)]),
    );
    const left = new Map(ids.map((id) => [id, count(id)]));
    for (let i = 0; left.size > 0; i++) {
      const id = ids[i % ids.length];
      const n = left.get(id);
      if (n === undefined) continue;
      if (n === 1) left.delete(id);
      else left.set(id, n - 1);
      const color = ['red', 'green', 'blue'][i % 3];
      const seq = Number(
        art.run(`a_${String(i).padStart(26, '0')}`, seqOf.get(id), `f${i}`, i).lastInsertRowid,
      );
      meta.run(color, seq);
      rows.push([seq, id, color]);
    }
  })();
});
afterAll(async () => {
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

/** All pages of `q` at `limit` per page: the seqs found, and whether a page before the last was short. */
async function allPages(q: Omit<ArtifactQuery, 'limit'>, limit: number) {
  const ids: string[] = [];
  let short = false;
  let cursor: string | undefined;
  for (;;) {
    const page = await catalog.queryArtifacts({ ...q, limit, cursor }, 10);
    if (page.next_cursor && page.items.length < limit) short = true;
    ids.push(...page.items.map((a) => a.session));
    if (!page.next_cursor) return { sessions: ids, short };
    cursor = page.next_cursor;
  }
}

describe('the session glob in artifact queries', () => {
  it.each(['few_*', 'few_[0-4]', 'big_*', 'big_1', '*_1', '*', 'none_*'])(
    '%s: every match, newest first, full pages',
    async (glob) => {
      const expected = rows
        .filter(([, s]) => compileGlob(glob)(s))
        .sort((a, b) => b[0] - a[0])
        .map(([, s]) => s);
      const { sessions, short } = await allPages({ sessions: glob }, 499);
      expect(sessions).toEqual(expected);
      expect(short).toBe(false);
    },
  );

  it.each(['few_*', 'big_1', '*'])('%s with color=red: every match, full pages', async (glob) => {
    const expected = rows
      .filter(([, s, color]) => compileGlob(glob)(s) && color === 'red')
      .sort((a, b) => b[0] - a[0])
      .map(([, s]) => s);
    const meta = [{ key: 'color', op: 'eq' as const, value: 'red' }];
    const { sessions, short } = await allPages({ sessions: glob, meta }, 499);
    expect(sessions).toEqual(expected);
    expect(short).toBe(false);
  });

  it('both plans are exercised: few_ sessions are driven from their ids, big_ ones walked', () => {
    expect(fewInSessions(catalog.db, 'few_*')).toBe(true);
    expect(fewInSessions(catalog.db, 'none_*')).toBe(true);
    expect(fewInSessions(catalog.db, 'big_1')).toBe(true); // 17,000
    expect(fewInSessions(catalog.db, 'big_*')).toBe(false); // 51,000
    expect(fewInSessions(catalog.db, '*')).toBe(false);
    expect(fewInSessions(catalog.db, undefined)).toBe(false);
  });

  it('combines with session=: a session outside the glob finds nothing', async () => {
    const inside = await catalog.queryArtifacts(
      { session: 'few_3', sessions: 'few_*', limit: 10 },
      10,
    );
    expect(inside.items).toHaveLength(3);
    const outside = await catalog.queryArtifacts(
      { session: 'big_0', sessions: 'few_*', limit: 10 },
      10,
    );
    expect(outside.items).toEqual([]);
  });

  it('limits session lists the same way', async () => {
    const page = await catalog.listSessions({ sessions: 'few_[0-4]', limit: 100 }, 10);
    expect(page.items.map((s) => s.id).sort()).toEqual([
      'few_0',
      'few_1',
      'few_2',
      'few_3',
      'few_4',
    ]);
  });
});
