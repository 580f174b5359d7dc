import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NEWEST_WINDOW,
  chooseMetaPlan,
  queryArtifactRows,
} from '../../src/catalog/sqlite/artifact-query-plan.js';
import { artifactQuerySql } from '../../src/catalog/sqlite/query-sql.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import type { ArtifactQuery } from '../../src/core/types.js';
import { bulkArtifacts } from '../helpers/bulk-catalog.js';
import { tempDir } from '../helpers/server.js';

// Three newest windows of artifacts: images and text throughout, videos only in the oldest
// rows (a family the newest window does not fill), types sent with parameters and in any case.
const N = NEWEST_WINDOW * 3;
const typeOf = (i: number): string =>
  i <= 40 && i % 2 === 0
    ? 'video/mp4'
    : ['image/png', 'Image/JPEG; q=1', 'text/plain', 'application/json; charset=utf-8'][i % 4];
let dir: string;
let catalog: SqliteCatalog;

beforeAll(() => {
  dir = tempDir();
  catalog = SqliteCatalog.open({ dir, durability: 'process' });
  bulkArtifacts(catalog.db, N, { typeOf });
});
afterAll(async () => {
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

const details = (q: ArtifactQuery): string[] => {
  const sql = artifactQuerySql(q, Date.now(), chooseMetaPlan(catalog.db, q));
  return catalog.db
    .prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${sql.text}`)
    .all(sql.params)
    .map((r) => r.detail);
};
/** What the query must answer: every row's media type checked here, newest first. */
const expected = (type: string, limit: number): string[] => {
  const want = type.toLowerCase();
  const media = (t: string) => t.split(';')[0].trim().toLowerCase();
  const out: string[] = [];
  for (let i = N; i >= 1 && out.length < limit + 1; i--) {
    const m = media(typeOf(i));
    if (want.endsWith('/*') ? m.startsWith(want.slice(0, -1)) : m === want) out.push(`f${i}`);
  }
  return out;
};

describe('type= query plans', () => {
  it('an exact type reads the media type index in row order (no sort), any case', () => {
    for (const type of ['application/json', 'Application/JSON']) {
      const d = details({ type, limit: 50 });
      expect(d[0]).toBe('SEARCH a USING INDEX artifacts_media_type (<expr>=?)');
      expect(d.join('\n')).not.toMatch(/\bSCAN\b|TEMP B-TREE FOR ORDER BY/);
    }
  });

  it('a family walks the newest rows by rowid (its index range is not in row order)', () => {
    expect(chooseMetaPlan(catalog.db, { type: 'image/*', limit: 50 }).kind).toBe('window');
    const d = details({ type: 'image/*', limit: 50 });
    expect(d[0]).toBe('SEARCH a USING INTEGER PRIMARY KEY (rowid>?)');
    expect(d.join('\n')).not.toMatch(/\bSCAN\b|TEMP B-TREE FOR ORDER BY/);
  });

  it.each(['image/*', 'IMAGE/*', 'text/*', 'video/*', 'application/json', 'image/jpeg'])(
    '%s answers what a check of every row answers, below the window too',
    (type) => {
      for (const limit of [5, 50, 1000]) {
        const rows = queryArtifactRows(catalog.db, { type, limit }, Date.now());
        expect(rows.map((r) => r.name)).toEqual(expected(type, limit));
      }
    },
  );
});
