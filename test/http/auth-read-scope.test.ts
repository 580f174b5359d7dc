import { describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/server/routes/index.js';
import { MISSING_ID, useReadScopeFixture } from '../helpers/read-scope-fixture.js';

// A token limited to `in_*` reads only those sessions. Generated from the route table: every
// route that reads (GET, and HEAD, below admin) must be classified here, so a new read route
// cannot forget the session glob. In the glob it works; outside, it answers exactly as if the
// thing did not exist (a lookup: 404 like a missing one; a list: without it, pages still full).
// What writes may name: read-scope-writes.test.ts.

const x = useReadScopeFixture();

/** A route looked up by what it names: the same path inside, outside, and for nothing at all. */
interface Lookup {
  kind: 'lookup';
  inside: () => string;
  outside: () => string;
  missing: () => string;
}
/** A route that lists: inside the glob it is complete, and nothing of other sessions is in it. */
interface Listing {
  kind: 'list';
  /** Read page by page with `limit=1` (so short pages would show), unless `paged` is false. */
  path: string;
  paged?: false;
  /** The session of one item. */
  sessionOf: (item: Record<string, unknown>) => string;
  expected: () => string[];
  /** The id of an item, compared with `expected`. */
  idOf: (item: Record<string, unknown>) => string;
}
/** Not about sessions at all (server-wide facts), with why. */
interface ServerWide {
  kind: 'server-wide';
  why: string;
}
type Case = Lookup | Listing | ServerWide;

const sid = (p: string) => ({
  inside: () => p.replace(':sid', 'in_1'),
  outside: () => p.replace(':sid', 'out_1'),
  missing: () => p.replace(':sid', 'out_9'),
});
const byId = (p: string, inside: string, outside: string) => ({
  inside: () => p.replace(':id', x.f[inside]),
  outside: () => p.replace(':id', x.f[outside]),
  missing: () => p.replace(':id', MISSING_ID),
});

const CASES: Record<string, Case> = {
  'GET /v1/keys': { kind: 'server-wide', why: "the server's public seal key" },
  'GET /metrics': { kind: 'server-wide', why: 'aggregate counters of the whole server' },
  'GET /openapi.json': { kind: 'server-wide', why: 'the API description' },
  'GET /mcp': { kind: 'server-wide', why: 'the MCP stream (405); tools: test/mcp' },
  'GET /v1/events': { kind: 'server-wide', why: 'a stream: its own tests below' },
  'GET /v1/sessions/:sid': { kind: 'lookup', ...sid('/v1/sessions/:sid') },
  'GET /v1/sessions/:sid/manifest': { kind: 'lookup', ...sid('/v1/sessions/:sid/manifest') },
  'GET /v1/sessions/:sid/export': { kind: 'lookup', ...sid('/v1/sessions/:sid/export') },
  'GET /v1/sessions/:sid/batch': { kind: 'lookup', ...sid('/v1/sessions/:sid/batch') },
  'GET /v1/sessions/:sid/latest': { kind: 'lookup', ...sid('/v1/sessions/:sid/latest') },
  'GET /v1/sessions/:sid/wait': { kind: 'lookup', ...sid('/v1/sessions/:sid/wait?timeout=1s') },
  'GET /v1/sessions/:sid/artifacts/*name': {
    kind: 'lookup',
    ...sid('/v1/sessions/:sid/artifacts/a.txt'),
  },
  'GET /v1/artifacts/:id': { kind: 'lookup', ...byId('/v1/artifacts/:id', 'inA', 'outA') },
  'GET /v1/artifacts/:id/content': {
    kind: 'lookup',
    ...byId('/v1/artifacts/:id/content', 'inA', 'outA'),
  },
  'GET /v1/artifacts/:id/lineage': {
    kind: 'lookup',
    ...byId('/v1/artifacts/:id/lineage', 'inA', 'outA'),
  },
  'HEAD /v1/blobs/:sha256': {
    kind: 'lookup',
    inside: () => `/v1/blobs/${x.f.inSha}`,
    outside: () => `/v1/blobs/${x.f.outSha}`,
    missing: () => `/v1/blobs/${'0'.repeat(64)}`,
  },
  'GET /v1/sessions': {
    kind: 'list',
    path: '/v1/sessions',
    sessionOf: (i) => i.id as string,
    idOf: (i) => i.id as string,
    expected: () => ['in_1', 'in_2'],
  },
  'GET /v1/artifacts': {
    kind: 'list',
    path: '/v1/artifacts',
    sessionOf: (i) => i.session as string,
    idOf: (i) => i.id as string,
    expected: () => [x.f.inB, x.f.inA],
  },
  'GET /v1/shares': {
    kind: 'list',
    path: '/v1/shares',
    paged: false,
    sessionOf: (i) => i.session as string,
    idOf: (i) => i.id as string,
    expected: () => [x.f[`share_${x.f.inA}`]],
  },
};

const readRoutes = allRoutes().filter(
  (r) =>
    (r.method === 'GET' || r.method === 'HEAD') && (r.access === 'read' || r.access === 'write'),
);

describe('a token limited to in_* reads only in_*, on every read route', () => {
  it.each(readRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s',
    async (key, route) => {
      const c = CASES[key];
      expect(c, `classify ${key} in CASES: what may a session-limited token read?`).toBeDefined();
      const token = x.tokens[route.access as 'read' | 'write'];
      if (c.kind === 'server-wide') return;
      if (c.kind === 'list') return checkList(c, token);
      for (const method of route.method === 'HEAD' ? ['HEAD'] : ['GET', 'HEAD']) {
        const inside = await x.as(token, c.inside(), method);
        expect(inside.status, `${method} ${c.inside()}`).toBeLessThan(300);
        await inside.body?.cancel();
        const outside = await x.as(token, c.outside(), method);
        const missing = await x.as(token, c.missing(), method);
        expect(outside.status, `${method} ${c.outside()}`).toBe(404);
        expect(missing.status, `${method} ${c.missing()}`).toBe(404);
        if (method === 'HEAD') continue;
        // Hidden and missing answer alike, but for the id each names.
        const hidden = (await outside.text()).replaceAll(/out_1|a_[0-9A-Z]{26}/g, 'X');
        expect(hidden).toBe((await missing.text()).replaceAll(/out_9|a_[0-9A-Z]{26}/g, 'X'));
      }
    },
  );
});

async function checkList(c: Listing, token: string): Promise<void> {
  const ids: string[] = [];
  let cursor = '';
  for (let page = 0; page < 20; page++) {
    const query = c.paged === false ? '' : `?limit=1${cursor && `&cursor=${cursor}`}`;
    const res = await x.as(token, c.path + query);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      items: Record<string, unknown>[];
      next_cursor?: string | null;
    };
    for (const item of body.items) expect(c.sessionOf(item)).toMatch(/^in_/);
    if (body.next_cursor) expect(body.items.length, 'a full page before the next').toBe(1);
    ids.push(...body.items.map(c.idOf));
    if (!body.next_cursor) break;
    cursor = body.next_cursor;
  }
  expect(ids).toEqual(c.expected());
}

describe('what a session-limited token reads, in detail', () => {
  it('a query naming another session finds nothing, as for a session that does not exist', async () => {
    for (const q of ['session=out_1', 'session=out_9', 'where=session%20~%20%27out_*%27']) {
      const res = await x.as(x.tokens.read, `/v1/artifacts?${q}`);
      expect(await res.json(), q).toEqual({ items: [], next_cursor: null });
    }
  });

  it('lineage shows artifacts of other sessions as missing upstream, and not downstream', async () => {
    const up = (await (await x.as(x.tokens.read, `/v1/artifacts/${x.f.inB}/lineage`)).json()) as {
      upstream: { id: string; missing?: boolean; session: string | null }[];
    };
    const outside = up.upstream.find((n) => n.id === x.f.outA);
    expect(outside).toMatchObject({ missing: true, session: null });
    expect(up.upstream.find((n) => n.id === x.f.inA)?.session).toBe('in_1');
    const down = await (await x.as(x.tokens.read, `/v1/artifacts/${x.f.inA}/lineage`)).text();
    expect(down).toContain(x.f.inB);
    expect(down).not.toContain(x.f.outC);
    // The admin sees both.
    expect(await (await x.s.fetch(`/v1/artifacts/${x.f.inA}/lineage`)).text()).toContain(x.f.outC);
  });

  it('the event stream replays and sends only events of its sessions', async () => {
    const res = await x.as(x.tokens.read, '/v1/events?last_event_id=0');
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/event: session\.sealed\ndata: \{[^\n]*"session":"in_1"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('"session":"in_1"');
    expect(text).not.toContain('out_');
    // Whether bytes were already stored (perhaps by another session) is not told either.
    expect(text).toContain('event: artifact.created');
    expect(text).not.toContain('deduplicated');
    const named = await x.as(x.tokens.read, '/v1/events?session=out_1');
    expect(named.status).toBe(404);
    expect(((await named.json()) as { error: { message: string } }).error.message).toMatch(/in_\*/);
  });

  it('an admin token, or one without a glob or with *, reads everything', async () => {
    const make = async (body: object) => {
      const res = await x.s.fetch('/v1/tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { token: string } };
    };
    for (const body of [{ scope: 'read' }, { scope: 'read', sessions: '*' }]) {
      const { token } = (await make(body)).body;
      const page = (await (await x.as(token, '/v1/artifacts')).json()) as { items: unknown[] };
      expect(page.items.length, JSON.stringify(body)).toBe(4);
      expect((await x.as(token, `/v1/artifacts/${x.f.outA}`)).status).toBe(200);
    }
    expect(await (await x.s.fetch('/v1/sessions/out_1')).json()).toMatchObject({ id: 'out_1' });
    // A glob on an admin token would not limit it (it can mint another): refused, not ignored.
    const admin = await make({ scope: 'admin', sessions: 'in_*' });
    expect(admin.status).toBe(400);
    expect(admin.body).toMatchObject({ error: { code: 'invalid_sessions' } });
  });
});
