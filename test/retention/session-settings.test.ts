import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Retention settings of a session over HTTP: keep_versions, ttl, pin, delete.
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

const req = async (method: string, path: string, body?: unknown) => {
  const res = await s.fetch(path, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const push = (sid: string, name: string, body: string) =>
  s.fetch(`/v1/sessions/${sid}/artifacts/${name}`, { method: 'PUT', body });
const versions = async (sid: string) =>
  ((await req('GET', `/v1/sessions/${sid}`)).body.artifacts as { version: number }[]).map(
    (a) => a.version,
  );

describe('keep_versions', () => {
  it('set at creation: each push keeps only the newest N of its name', async () => {
    const created = await req('POST', '/v1/sessions', { id: 'k1', keep_versions: 2 });
    expect(created.status).toBe(201);
    expect(created.body.keep_versions).toBe(2);
    for (let v = 1; v <= 4; v++) await push('k1', 'log.txt', `v${v}`);
    await push('k1', 'other.txt', 'o');
    expect(await versions('k1')).toEqual([3, 4, 1]);
  });

  it('set with PATCH: applies at once; null unsets it', async () => {
    for (let v = 1; v <= 3; v++) await push('k2', 'log.txt', `w${v}`);
    const patched = await req('PATCH', '/v1/sessions/k2', { keep_versions: 1 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ keep_versions: 1, artifact_count: 1 });
    expect(await versions('k2')).toEqual([3]);
    const unset = await req('PATCH', '/v1/sessions/k2', { keep_versions: null });
    expect(unset.body.keep_versions).toBeNull();
    await push('k2', 'log.txt', 'w4');
    expect(await versions('k2')).toEqual([3, 4]);
  });

  it.each([0, -1, 1.5, '3', 100_001])('rejects keep_versions %j with a 400', async (n) => {
    const r = await req('POST', '/v1/sessions', { id: 'kbad', keep_versions: n });
    expect(r.status).toBe(400);
    expect((r.body.error as { code: string }).code).toBe('invalid_keep_versions');
  });
});

describe('ttl, pin and delete', () => {
  it('PATCH ttl sets and null clears an open session’s expiry; a sealed one answers 409', async () => {
    await push('t1', 'a.txt', 'a');
    const set = await req('PATCH', '/v1/sessions/t1', { ttl: '1h' });
    expect(Date.parse(set.body.expires_at as string) - Date.now()).toBeGreaterThan(3_500_000);
    const cleared = await req('PATCH', '/v1/sessions/t1', { ttl: null });
    expect(cleared.body.expires_at).toBeNull();
    await req('POST', '/v1/sessions/t1/seal');
    expect((await req('PATCH', '/v1/sessions/t1', { ttl: '1h' })).status).toBe(409);
    expect((await req('PATCH', '/v1/sessions/t1', { keep_versions: 2 })).status).toBe(409);
  });

  it('pins and unpins sealed and open sessions; unknown → 404', async () => {
    expect((await req('PUT', '/v1/sessions/t1/pin')).body).toMatchObject({
      pinned: true,
      sealed: true,
    });
    expect((await req('DELETE', '/v1/sessions/t1/pin')).body.pinned).toBe(false);
    expect((await req('PUT', '/v1/sessions/nope/pin')).status).toBe(404);
  });

  it('DELETE removes an open session with all its artifacts; sealed → 409; unknown → 404', async () => {
    await push('d1', 'a.txt', 'a');
    await push('d1', 'b/c.txt', 'c');
    expect(await req('DELETE', '/v1/sessions/d1')).toEqual({
      status: 200,
      body: { id: 'd1', artifacts_deleted: 2 },
    });
    expect((await req('GET', '/v1/sessions/d1')).status).toBe(404);
    expect((await req('GET', '/v1/artifacts?session=d1')).body.items).toEqual([]);
    const sealed = await req('DELETE', '/v1/sessions/t1');
    expect(sealed.status).toBe(409);
    expect((sealed.body.error as { code: string }).code).toBe('session_sealed');
    expect((await req('DELETE', '/v1/sessions/d1')).status).toBe(404);
  });

  it('GET /v1/gc is a dry run; POST /v1/gc?dry_run=true too; unknown parameters are a 400', async () => {
    const plan = await req('GET', '/v1/gc');
    expect(plan.body.dry_run).toBe(true);
    expect((await req('POST', '/v1/gc?dry_run=true')).body.dry_run).toBe(true);
    expect((await req('POST', '/v1/gc?dryrun=1')).status).toBe(400);
  });
});
