import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import type { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import type { Scope } from '../../src/core/types.js';
import type { Route } from '../../src/server/router.js';
import { bindArtifactaRoutes } from '../../src/server/artifacta/routes/index.js';
import { allRoutes } from '../../src/server/routes/index.js';
import { startArtifactaTestServer, type ArtifactaTestServer } from '../helpers/artifacta.js';
import { concretePath } from '../helpers/routes.js';

let s: ArtifactaTestServer;
const tokens: Partial<Record<Scope, string>> = {};

beforeAll(async () => {
  // With the Artifacta listener (--artifacta-listen): its routes check tokens the same way.
  s = await startArtifactaTestServer();
  for (const scope of ['read', 'write'] as const) {
    tokens[scope] = (await createToken({ scope, name: scope })).token;
  }
});
afterAll(async () => s.close());

/** Both listeners' route tables, each with its base URL and the shape of its `:id`. */
const LISTENERS: [string, Route[], () => string, string][] = [
  ['cairn', allRoutes(), () => s.url, 'a_01J00000000000000000000000'],
  ['artifacta', bindArtifactaRoutes(), () => s.aUrl, 'art_AAAAAAAAAAAAAAAA'],
];
const TABLE = LISTENERS.flatMap(([listener, routes, base, id]) =>
  routes.map((r) => [`${listener}: ${r.method} ${r.path}`, r, base, id] as const),
);

const callAt = (method: string, path: string, token?: string, base = () => s.url, id?: string) =>
  fetch(base() + concretePath(path, id), {
    method,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });

const BELOW: Record<Scope, Scope[]> = { read: [], write: ['read'], admin: ['read', 'write'] };

// Generated from the route tables: a route added without thought still gets these checks.
describe.each(TABLE)('%s', (_name, route, base, id) => {
  const call = (method: string, path: string, token?: string) =>
    callAt(method, path, token, base, id);
  if (route.access === 'public') {
    it('is public: answers without a token (never 401)', async () => {
      const res = await call(route.method, route.path);
      expect(res.status).not.toBe(401);
      await res.body?.cancel();
    });
    return;
  }
  it('401 without a token', async () => {
    const res = await call(route.method, route.path);
    expect(res.status).toBe(401);
    if (route.method !== 'HEAD')
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
  it('401 with a wrong token', async () => {
    const res = await call(
      route.method,
      route.path,
      'cairn_forged0000000000000000000000000000000000',
    );
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });
  for (const scope of BELOW[route.access]) {
    it(`403 with a ${scope} token`, async () => {
      const res = await call(route.method, route.path, tokens[scope]);
      expect(res.status).toBe(403);
      await res.body?.cancel();
    });
  }
});

/** Creates a token through the API as the admin. */
async function createToken(body: object): Promise<{ id: string; token: string }> {
  const res = await s.fetch('/v1/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

/** One row of SQL (`?` the id) on the server's catalog, SQLite or PostgreSQL, run directly. */
async function catalogRow(sql: string, id: string): Promise<unknown> {
  const c = s.app.catalog;
  if (c instanceof PgCatalog) return c.db.get(sql.replace('?', '$1'), [id]);
  return (c as SqliteCatalog).db.prepare(sql).get(id);
}

describe('token scopes and session globs', () => {
  it('a token limited to run_* writes there and nowhere else', async () => {
    const { token } = await createToken({ scope: 'write', sessions: 'run_*' });
    const put = (sid: string) =>
      fetch(`${s.url}/v1/sessions/${sid}/artifacts/f`, {
        method: 'PUT',
        body: Buffer.from('x'),
        headers: { Authorization: `Bearer ${token}` },
      });
    expect((await put('run_7')).status).toBe(201);
    const denied = await put('prod_1');
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { message: string } }).error.message).toMatch(
      /run_\*/,
    );
    expect(
      (await fetch(`${s.url}/v1/sessions/run_7`, { headers: { Authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
  });

  it('stores tokens hashed: the secret is shown once and never listed', async () => {
    const created = await createToken({ scope: 'read' });
    const list = await (await s.fetch('/v1/tokens')).text();
    expect(list).toContain(created.id);
    expect(list).not.toContain(created.token);
    const row = (await catalogRow('SELECT hash FROM tokens WHERE id = ?', created.id)) as {
      hash: string;
    };
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.hash).not.toContain(created.token);
  });

  it('a stored scope that is not read, write or admin grants nothing', async () => {
    const created = await createToken({ scope: 'read' });
    // As a row written before scopes were checked as own keys would have it.
    await catalogRow("UPDATE tokens SET scope = 'toString' WHERE id = ? RETURNING id", created.id);
    const as = (path: string) =>
      fetch(`${s.url}${path}`, { headers: { Authorization: `Bearer ${created.token}` } });
    for (const path of ['/v1/artifacts', '/v1/tokens', '/v1/backup']) {
      const res = await as(path);
      expect(res.status, path).toBe(403);
      await res.body?.cancel();
    }
  });

  it('a revoked token stops working at once', async () => {
    const created = await createToken({ scope: 'read' });
    const get = () =>
      fetch(`${s.url}/v1/artifacts`, { headers: { Authorization: `Bearer ${created.token}` } });
    expect((await get()).status).toBe(200);
    expect((await s.fetch(`/v1/tokens/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await get()).status).toBe(401);
  });
});

// Generated too: every write route, called by a token limited to `run_*` on things in another
// session, is refused, so a new write route cannot forget the session check: 403 for a session
// named in the path (the glob alone decides), 404 for an artifact or share named by id (to that
// token it does not exist; see auth-read-scope.test.ts). Routes that are not about one session
// (listing shares, importing a tar that names its session) are listed.
describe('a session-limited write token cannot touch other sessions, on any write route', () => {
  const NOT_SESSION_BOUND = ['GET /v1/shares', 'POST /v1/import'];
  let scoped = '';
  const target: Record<string, string> = {};
  beforeAll(async () => {
    const created = await s.fetch('/v1/tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"scope":"write","sessions":"run_*"}',
    });
    scoped = ((await created.json()) as { token: string }).token;
    const pushed = await s.fetch('/v1/sessions/prod_1/artifacts/x.txt', {
      method: 'PUT',
      body: 'x',
    });
    target.id = ((await pushed.json()) as { id: string }).id;
    const shared = await s.fetch(`/v1/artifacts/${target.id}/share`, { method: 'POST' });
    target.share = ((await shared.json()) as { id: string }).id;
  });
  const writeRoutes = allRoutes().filter(
    (r) => r.access === 'write' && !NOT_SESSION_BOUND.includes(`${r.method} ${r.path}`),
  );
  it.each(writeRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s → refused outside run_*',
    async (_n, route) => {
      const path = route.path
        .replace(':sid', 'prod_1')
        .replace('*name', 'y.txt')
        .replace('/shares/:id', `/shares/${target.share}`)
        .replace(':id', target.id);
      const res = await fetch(s.url + path, {
        method: route.method,
        headers: { Authorization: `Bearer ${scoped}`, 'Content-Type': 'application/json' },
        body:
          route.method === 'PUT'
            ? 'y'
            : route.path === '/v1/sessions'
              ? '{"id":"prod_2"}'
              : undefined,
      });
      expect(res.status, await res.text()).toBe(route.path.includes(':id') ? 404 : 403);
    },
  );
});

// The same on the Artifacta listener: every write route, by a key limited to `run_*`, on an
// artifact (or session) of prod_1 or with session_id prod_1, is refused.
describe('a session-limited Artifacta key cannot touch other sessions, on any write route', () => {
  let scoped = '';
  let artId = '';
  const body = JSON.stringify({
    filename: 'y.txt',
    content: 'eQ==',
    content_encoding: 'base64',
    session_id: 'prod_1',
    size_bytes: 1,
    ttl: '1d',
    expires_in: 60,
    visibility: 'unlisted',
    access: 'none',
  });
  beforeAll(async () => {
    scoped = (await createToken({ scope: 'write', sessions: 'run_*', artifacta: true })).token;
    const stored = await fetch(`${s.aUrl}/v1/artifacts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${s.key}`, 'Content-Type': 'application/json' },
      body,
    });
    artId = ((await stored.json()) as { artifact_id: string }).artifact_id;
  });
  const writeRoutes = bindArtifactaRoutes().filter((r) => r.access === 'write');
  it.each(writeRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s → 403 outside run_*',
    async (_n, route) => {
      const res = await fetch(s.aUrl + route.path.replace(':sid', 'prod_1').replace(':id', artId), {
        method: route.method,
        headers: { Authorization: `Bearer ${scoped}`, 'Content-Type': 'application/json' },
        body: route.method === 'POST' ? body : undefined,
      });
      expect(res.status, await res.text()).toBe(403);
    },
  );
  it('GET /v1/sessions lists only the sessions its glob matches', async () => {
    const stored = await fetch(`${s.aUrl}/v1/artifacts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${scoped}`, 'Content-Type': 'application/json' },
      body: body.replace('prod_1', 'run_7'),
    });
    expect(stored.status).toBe(201);
    const res = await fetch(`${s.aUrl}/v1/sessions?limit=200`, {
      headers: { Authorization: `Bearer ${scoped}` },
    });
    const ids = ((await res.json()) as { sessions: { session_id: string }[] }).sessions.map(
      (x) => x.session_id,
    );
    expect(ids).toEqual(['run_7']);
  });
});
