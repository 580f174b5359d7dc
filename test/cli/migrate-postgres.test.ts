import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { checkCopy, describeStore, populate } from '../helpers/populated-store.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const open: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(config: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(config);
  open.push(s);
  return s;
}

describe('cairn migrate between SQLite and PostgreSQL', () => {
  it('moves a store to PostgreSQL and back: seals verify, fsck is clean, a second run writes nothing', async () => {
    const root = tempDir('cairn-migrate-pg-');
    dirs.push(root);
    const src = join(root, 'src');
    // The source on SQLite whatever CAIRN_TEST_CATALOG says: this test is about the move.
    const s = await serve({ dataDir: src, catalogUrl: `sqlite:${join(src, 'catalog.db')}` });
    const p = await populate(s);
    const before = await describeStore(s, p);
    await open.pop()?.close();

    const pgUrl = await freshPgDatabase();
    const blobs = `file:${join(root, 'blobs')}`;
    const keys = join(root, 'keys');
    const to = await runCli([
      'migrate',
      '--from',
      src,
      '--to',
      `${pgUrl},${blobs}`,
      '--to-data',
      keys,
    ]);
    expect(to.code, to.stderr).toBe(0);
    expect(to.stdout).toMatch(/^migrated 4 session\(s\), 8 artifact\(s\)/);
    const again = await runCli([
      'migrate',
      '--from',
      src,
      '--to',
      `${pgUrl},${blobs}`,
      '--to-data',
      keys,
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already migrated: the target holds this store');

    const onPg = await serve({ dataDir: keys, catalogUrl: pgUrl, blobsUrl: blobs });
    expect(await describeStore(onPg, p)).toEqual(before);
    await open.pop()?.close();

    // And back, from the PostgreSQL store into a fresh data dir on SQLite.
    const back = join(root, 'back');
    const r = await runCli([
      'migrate',
      '--from',
      `${pgUrl},${blobs}`,
      '--from-data',
      keys,
      '--to',
      back,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const onSqlite = await serve({
      dataDir: back,
      catalogUrl: `sqlite:${join(back, 'catalog.db')}`,
    });
    expect(await describeStore(onSqlite, p)).toEqual(before);
    await checkCopy(onSqlite, p);
  });
});
