import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/server/routes/index.js';
import { concretePath } from '../helpers/routes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

const call = async (method: string, path: string, query: string) => {
  const res = await s.fetch(`${concretePath(path)}?${query}`, {
    method,
    signal: AbortSignal.timeout(10_000),
  });
  // An event stream that was accepted never ends: its status says enough.
  const streaming = res.headers.get('content-type')?.startsWith('text/event-stream');
  if (method === 'HEAD' || streaming) await res.body?.cancel();
  const text = method === 'HEAD' || streaming ? '' : await res.text();
  return { status: res.status, text };
};

// Generated from the route table: a route added later gets the same check.
describe.each(
  allRoutes()
    .filter((r) => r.query !== 'any')
    .map((r) => [`${r.method} ${r.path}`, r] as const),
)('%s', (_name, route) => {
  it('refuses an unknown query parameter with a 400 that lists the ones it takes', async () => {
    const r = await call(route.method, route.path, 'bogus=1');
    expect(r.status).toBe(400);
    if (route.method !== 'HEAD') {
      expect(r.text).toContain('invalid_query');
      expect(r.text).toContain("unknown query parameter 'bogus'");
    }
  });
  const declared = [...(route.query ?? []), ...(route.meta ? ['meta.k'] : [])];
  if (declared.length > 0 && route.method !== 'HEAD')
    it(`takes what it declares: ${declared.join(', ')}`, async () => {
      for (const name of declared) {
        const r = await call(route.method, route.path, `${name}=1`);
        expect(r.text, name).not.toContain('unknown query parameter');
      }
    });
});

describe('routes whose query strings are not the API’s take any', () => {
  it.each(['/healthz', '/ui/sessions?q=x&state=open', '/'])('%s', async (path) => {
    const res = await fetch(`${s.url}${path}${path.includes('?') ? '&' : '?'}utm_source=chat`);
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });
});

describe('/openapi.json lists the query parameters each route takes', () => {
  it('the same lists the server checks requests against', async () => {
    const doc = (await (await s.fetch('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const q = (path: string, method: string) =>
      (doc.paths[path][method].parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(q('/v1/artifacts', 'get')).toEqual([
      'session',
      'type',
      'name',
      'since',
      'until',
      'latest',
      'limit',
      'cursor',
      'where',
      'meta.KEY',
    ]);
    expect(q('/v1/sessions/{sid}/seal', 'post')).toEqual([]);
    expect(q('/v1/import', 'post')).toEqual(['ttl']);
  });
});

describe('session= on the artifact query', () => {
  it('an empty session names none: a 400, not an empty list', async () => {
    const r = await call('GET', '/v1/artifacts', 'session=');
    expect(r.status).toBe(400);
    expect(r.text).toContain('invalid_session_id');
  });
});
