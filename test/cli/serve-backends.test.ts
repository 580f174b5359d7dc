import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

const running: ServerProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.kill9();
});

async function serve(dir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const p = await spawnServer(dir, args, env);
  running.push(p);
  return p;
}

async function put(p: ServerProcess, name: string, body: string): Promise<string> {
  const res = await fetch(`${p.url}/v1/sessions/s1/artifacts/${name}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${p.token}` },
    body,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function content(p: ServerProcess, id: string): Promise<string> {
  const res = await fetch(`${p.url}/v1/artifacts/${id}/content`, {
    headers: { Authorization: `Bearer ${p.token}` },
  });
  expect(res.status).toBe(200);
  return res.text();
}

describe('the data directory lock', () => {
  it('refuses a second cairn serve on the same data dir, naming the pid and the dir', async () => {
    const dir = tempDir();
    const first = await serve(dir);
    const second = await runCli(['serve', '--port', '0', '--data', dir]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`the data directory ${dir} is in use by another cairn serve`);
    expect(second.stderr).toContain(`pid ${first.child.pid} `);
    // The first one is unharmed.
    const id = await put(first, 'a.txt', 'still mine');
    expect(await content(first, id)).toBe('still mine');
  });

  it('dies with its process: after kill -9 the next start takes the dir over', async () => {
    const dir = tempDir();
    for (let round = 0; round < 3; round++) {
      const p = await serve(dir);
      await put(p, `r${round}.txt`, `round ${round}`);
      await p.kill9();
    }
    const last = await serve(dir);
    expect(readFileSync(join(dir, 'cairn.lock.owner'), 'utf8')).toContain(`pid ${last.child.pid} `);
    // And the new holder's lock is a real one again.
    const second = await runCli(['serve', '--port', '0', '--data', dir]);
    expect(second.stderr).toContain(`in use by another cairn serve (pid ${last.child.pid} `);
  });

  it('is released by a clean stop, and refuses a second app in the same process', async () => {
    const dir = tempDir();
    const p = await serve(dir);
    expect(await p.stop()).toBe(0);
    expect(existsSync(join(dir, 'cairn.lock.owner'))).toBe(false);
    const app = await createApp({ dataDir: dir, durability: 'process' });
    try {
      await expect(createApp({ dataDir: dir })).rejects.toMatchObject({ code: 'data_dir_locked' });
    } finally {
      await app.close();
    }
    const again = await createApp({ dataDir: dir, durability: 'process' });
    await again.close();
  });
});

describe('cairn serve --catalog / --blobs', () => {
  it('puts the catalog and the blobs where the URLs say, and reads them back after a restart', async () => {
    const dir = tempDir();
    const db = join(dir, 'elsewhere', 'cat.db');
    const store = join(dir, 'store');
    const args = ['--catalog', `sqlite://${db}`, '--blobs', `file:${store}`];
    const big = 'x'.repeat(100_000); // past the inline tier: a file in the blob store
    const p = await serve(join(dir, 'data'), args);
    const small = await put(p, 'small.txt', 'small');
    const large = await put(p, 'large.txt', big);
    expect(await p.stop()).toBe(0);
    expect(existsSync(db)).toBe(true);
    expect(existsSync(join(dir, 'data', 'catalog.db'))).toBe(false);
    expect(existsSync(join(store, 'blobs'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'blobs'))).toBe(false);
    // The same URLs from the environment find everything again.
    const env = { CAIRN_CATALOG: `sqlite:${db}`, CAIRN_BLOBS: `file://${store}` };
    const q = await serve(join(dir, 'data'), [], env);
    expect(await content(q, small)).toBe('small');
    expect(await content(q, large)).toBe(big);
  });

  it('an unknown scheme is a usage error naming the known ones; nothing is created', async () => {
    const dir = join(tempDir(), 'never');
    const my = await runCli(['serve', '--data', dir, '--catalog', 'mysql://db/cairn']);
    expect(my.code).toBe(2);
    expect(my.stderr).toContain(
      "no catalog backend for 'mysql:'; this build knows sqlite:, postgres:, postgresql:",
    );
    const gs = await runCli(['serve', '--data', dir], { env: { CAIRN_BLOBS: 'gs://bucket' } });
    expect(gs.code).toBe(2);
    expect(gs.stderr).toContain("no blob store backend for 'gs:'; this build knows file:, s3:");
    const s3 = await runCli(['serve', '--data', dir, '--blobs', 's3://bucket?colour=red']);
    expect(s3.code).toBe(2);
    expect(s3.stderr).toContain("unknown parameter 'colour'");
    const bare = await runCli(['serve', '--data', dir, '--blobs', '/srv/blobs']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("--blobs '/srv/blobs' is not a URL");
    const host = await runCli(['serve', '--data', dir, '--catalog', 'sqlite://db-host/x.db']);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain("--catalog 'sqlite://db-host/x.db' names a host");
    expect(existsSync(dir)).toBe(false);
  });

  it('a PostgreSQL catalog nobody answers for stops the start with a message naming it', async () => {
    const dir = join(tempDir(), 'data');
    const url = 'postgres://cairn:s3cret@127.0.0.1:1/cairn';
    const r = await runCli(['serve', '--port', '0', '--data', dir, '--catalog', url]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cannot open the PostgreSQL catalog at 127.0.0.1:1/cairn');
    expect(r.stderr).toContain('check --catalog');
    expect(r.stderr).not.toContain('s3cret');
  });
});
