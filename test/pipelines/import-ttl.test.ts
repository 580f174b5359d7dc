import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let a: TestServer;
let b: TestServer;
const work = tempDir();

beforeAll(async () => {
  [a, b] = await Promise.all([startTestServer(), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

/** A sealed session on server A with a 1-hour TTL, exported: the tar's bytes. */
async function sealedExport(sid: string): Promise<Buffer> {
  const created = await a.fetch('/v1/sessions', {
    method: 'POST',
    body: JSON.stringify({ id: sid, ttl: '1h' }),
    headers: { 'Content-Type': 'application/json' },
  });
  expect(created.status).toBe(201);
  expect(
    (await a.fetch(`/v1/sessions/${sid}/artifacts/r.txt`, { method: 'PUT', body: sid })).status,
  ).toBe(201);
  expect((await a.fetch(`/v1/sessions/${sid}/seal`, { method: 'POST' })).status).toBe(200);
  const res = await a.fetch(`/v1/sessions/${sid}/export`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

const importTar = (tar: Buffer, query = '') =>
  b.fetch(`/v1/import${query}`, {
    method: 'POST',
    body: tar,
    headers: { 'Content-Type': 'application/x-tar' },
  });

describe('an import gets a lifetime only from the importer', () => {
  it('without ?ttl= the imported session never expires (an export carries no TTL)', async () => {
    const res = await importTar(await sealedExport('ttl-none'));
    expect(res.status).toBe(201);
    const s = (await res.json()) as { session: { expires_at: string | null } };
    expect(s.session.expires_at).toBeNull();
  });

  it('?ttl= gives it one, here', async () => {
    const before = Date.now();
    const res = await importTar(await sealedExport('ttl-2h'), '?ttl=2h');
    expect(res.status).toBe(201);
    const s = (await res.json()) as { session: { expires_at: string; sealed: boolean } };
    expect(s.session.sealed).toBe(true);
    const at = Date.parse(s.session.expires_at);
    expect(at).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);
  });

  it('a bad ttl is a 400 before anything is stored', async () => {
    const res = await importTar(await sealedExport('ttl-bad'), '?ttl=soon');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_duration');
    expect((await b.fetch('/v1/sessions/ttl-bad')).status).toBe(404);
  });

  it('cairn import --ttl sets it; a bad --ttl is a usage error that sends nothing', async () => {
    const file = join(work, 'ttl-cli.tar');
    writeFileSync(file, await sealedExport('ttl-cli'));
    const env = { CAIRN_URL: b.url, CAIRN_TOKEN: b.token };
    const bad = await runCli(['import', file, '--ttl', 'soon'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--ttl 'soon' is not a duration");
    expect((await b.fetch('/v1/sessions/ttl-cli')).status).toBe(404);
    const ok = await runCli(['import', file, '--ttl', '3d', '--json'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const s = JSON.parse(ok.stdout) as { session: { expires_at: string } };
    expect(Date.parse(s.session.expires_at)).toBeGreaterThan(Date.now() + 2 * 86_400_000);
  });
});
