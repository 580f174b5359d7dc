import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/catalog/sqlite/migrations.js';
import { ROOT, tempDir } from '../helpers/server.js';

// Nodes starting at once on one new catalog file (or on one being upgraded) each run the
// migrations: every step must run once, whoever gets there first. Real processes (the built
// migrations module; `npm run build` first), released together by a file they wait for.

const MODULE = join(ROOT, 'build', 'catalog', 'sqlite', 'migrations.js');

function migrator(file: string, go: string): Promise<{ code: number | null; err: string }> {
  const script = `
    import Database from 'better-sqlite3';
    import { existsSync } from 'node:fs';
    import { migrate } from ${JSON.stringify(MODULE)};
    const db = new Database(${JSON.stringify(file)});
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 1));
    migrate(db);
    db.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((r) => child.on('close', (code) => r({ code, err })));
}

describe('migrations from several processes at once', () => {
  it('run each step once: every process starts, the schema is whole', async () => {
    expect(existsSync(MODULE), 'run npm run build first').toBe(true);
    for (let round = 0; round < 6; round++) {
      const dir = tempDir();
      const file = join(dir, 'catalog.db');
      const go = join(dir, 'go');
      const runs = [0, 1, 2].map(() => migrator(file, go));
      // Let them all open the file and wait, then release them together.
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(go, '');
      for (const r of await Promise.all(runs)) expect(r, r.err).toMatchObject({ code: 0 });
      const db = new Database(file, { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(
        db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'secrets'").get(),
      ).toEqual({ n: 1 });
      db.close();
    }
  }, 120_000);
});
