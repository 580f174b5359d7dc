import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { parseWhere } from '../../src/core/where-parser.js';
import { bulkArtifacts } from '../helpers/bulk-catalog.js';
import { tempDir } from '../helpers/server.js';
import { expensiveWheres } from '../reliability/hostile-corpus.js';

// The catalog's queries run on read workers (ReadPool): closing the catalog must stop them,
// even in the middle of a query costing seconds, and nothing must run after it.
let dir: string;
let catalog: SqliteCatalog;

beforeEach(() => {
  dir = tempDir();
  catalog = SqliteCatalog.open({ dir, durability: 'process', queryTimeoutMs: 120_000 });
  bulkArtifacts(catalog.db, 10_000);
});
afterEach(async () => {
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

const worst = { where: parseWhere(expensiveWheres()[0][1]), limit: 50 };

describe('ReadPool', () => {
  it('close() stops a query in progress and its workers, and refuses later reads', async () => {
    const slow = catalog.queryArtifacts(worst, Date.now());
    const failed = slow.then(
      () => 'answered',
      (e: Error) => e.message,
    );
    while (catalog.queriesRunning === 0) await new Promise((r) => setImmediate(r));
    await catalog.close();
    // Rejected by close, not answered by the worker running it to its end (seconds).
    expect(await failed).toMatch(/closed/);
    expect(catalog.queriesRunning).toBe(0);
    await expect(catalog.queryArtifacts({ limit: 1 }, Date.now())).rejects.toThrow(/closed/);
  });

  it('queues reads beyond its two workers and answers all of them', async () => {
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        catalog.queryArtifacts({ limit: 1, cursor: undefined, name: `f${i + 1}` }, Date.now()),
      ),
    );
    expect(many.map((p) => p.items[0].name)).toEqual(
      Array.from({ length: 20 }, (_, i) => `f${i + 1}`),
    );
  });
});
