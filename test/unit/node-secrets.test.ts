import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { sealKeyId } from '../../src/core/signer.js';
import { tempDir } from '../helpers/server.js';

// The embedded default keeps its files: admin.token and seal.key in the data dir, as before the
// catalog held them. These pin the paths a single SQLite node takes through the bootstrap.

const apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function start(dataDir: string, catalogUrl?: string): Promise<App> {
  const app = await createApp({ dataDir, port: 0, ...(catalogUrl ? { catalogUrl } : {}) });
  apps.push(app);
  return app;
}

async function stop(app: App): Promise<void> {
  apps.splice(apps.indexOf(app), 1);
  await app.close();
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');

describe('seal key and admin token on SQLite', () => {
  it('first start writes both files as before; the catalog holds the same key', async () => {
    const dir = tempDir();
    const app = await start(dir);
    expect(app.createdAdminToken).toBe(join(dir, 'admin.token'));
    expect(read(dir, 'admin.token')).toMatch(/^cairn_[A-Za-z0-9_-]{43}\n$/);
    const pem = (await app.catalog.secrets.get('seal_key')) ?? '';
    expect(read(dir, 'seal.key')).toBe(pem);
    expect(app.signer.publicKey.id).toBe(sealKeyId(pem));
    await stop(app);
    const again = await start(dir);
    expect(again.createdAdminToken).toBeNull();
    expect(again.signer.publicKey.id).toBe(sealKeyId(pem));
    expect(await again.catalog.countTokens('admin')).toBe(1);
  });

  it('a store made before the catalog held secrets keeps its key and gets no new admin token', async () => {
    const dir = tempDir();
    const old = await start(dir);
    const keyId = old.signer.publicKey.id;
    const token = read(dir, 'admin.token');
    await stop(old);
    // As the previous release left it: no secrets table, user_version 10.
    const raw = new Database(join(dir, 'catalog.db'));
    raw.exec('DROP TABLE secrets');
    raw.pragma('user_version = 10');
    raw.close();
    rmSync(join(dir, 'admin.token'));
    const app = await start(dir);
    expect(app.signer.publicKey.id).toBe(keyId);
    expect(sealKeyId((await app.catalog.secrets.get('seal_key')) ?? '')).toBe(keyId);
    expect(await app.catalog.secrets.get('admin_token')).toBe('');
    expect(app.createdAdminToken).toBeNull();
    expect(existsSync(join(dir, 'admin.token'))).toBe(false);
    expect(await app.catalog.countTokens('admin')).toBe(1);
    expect(await app.tokens.authenticate(token.trim())).toMatchObject({ scope: 'admin' });
  });

  it('a deleted admin.token stays deleted; revoking every admin token makes a new one at restart', async () => {
    const dir = tempDir();
    const app = await start(dir);
    const first = read(dir, 'admin.token').trim();
    rmSync(join(dir, 'admin.token'));
    await stop(app);
    const second = await start(dir);
    expect(existsSync(join(dir, 'admin.token'))).toBe(false);
    const [only] = await second.catalog.listTokens();
    await second.tokens.revoke(only.id);
    await stop(second);
    const third = await start(dir);
    expect(third.createdAdminToken).toBe(join(dir, 'admin.token'));
    const fresh = read(dir, 'admin.token').trim();
    expect(fresh).not.toBe(first);
    expect(await third.tokens.authenticate(fresh)).toMatchObject({ scope: 'admin' });
    await expect(third.tokens.authenticate(first)).rejects.toMatchObject({ status: 401 });
    expect(await third.catalog.countTokens('admin')).toBe(1);
  });

  it('a second data dir on the same catalog file gets the same key and the admin token', async () => {
    const shared = join(tempDir(), 'catalog.db');
    const [d1, d2] = [tempDir(), tempDir()];
    const one = await start(d1, `sqlite:${shared}`);
    const two = await start(d2, `sqlite:${shared}`);
    expect(two.signer.publicKey).toEqual(one.signer.publicKey);
    expect(read(d2, 'seal.key')).toBe(read(d1, 'seal.key'));
    expect(read(d2, 'admin.token')).toBe(read(d1, 'admin.token'));
    expect(two.createdAdminToken).toBe(join(d2, 'admin.token'));
    expect(await two.catalog.countTokens('admin')).toBe(1);
  });

  it('two servers starting at once on one new catalog file agree on key and token', async () => {
    for (let round = 0; round < 4; round++) {
      const shared = join(tempDir(), 'catalog.db');
      const dirs = [tempDir(), tempDir(), tempDir()];
      const apps = await Promise.all(dirs.map((d) => start(d, `sqlite:${shared}`)));
      const keys = new Set(apps.map((a) => a.signer.publicKey.id));
      expect(keys.size).toBe(1);
      expect(new Set(dirs.map((d) => read(d, 'admin.token'))).size).toBe(1);
      expect(new Set(dirs.map((d) => read(d, 'seal.key'))).size).toBe(1);
      expect(await apps[0].catalog.countTokens('admin')).toBe(1);
      await Promise.all(apps.map((a) => stop(a)));
    }
  });
});
