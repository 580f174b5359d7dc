import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
  await s.fetch('/v1/sessions/ok/artifacts/seed.txt', { method: 'PUT', body: Buffer.from('seed') });
});
afterAll(async () => s.close());

const long = 'x'.repeat(1025);

/** A request with the path sent exactly as written (fetch would normalize `..` away). */
function raw(
  method: string,
  path: string,
  body: string | Buffer | null,
  headers: Record<string, string>,
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        `${s.url}/`,
        { method, path, headers: { Authorization: `Bearer ${s.token}`, ...headers } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          );
        },
      );
      req.on('error', reject);
      req.end(body ?? undefined);
    },
  );
}
const manyMeta = Array.from({ length: 65 }, (_, i) => `meta.k${i}=v`).join('&');

/** [description, method, path, body, expected status, expected code] */
const cases: [string, string, string, string | Buffer | null, number, string][] = [
  ['.. segment', 'PUT', '/v1/sessions/ok/artifacts/a/../b', 'x', 400, 'invalid_name'],
  [
    'encoded traversal',
    'PUT',
    '/v1/sessions/ok/artifacts/%2e%2e/etc/passwd',
    'x',
    400,
    'invalid_name',
  ],
  [
    'encoded slash traversal',
    'PUT',
    '/v1/sessions/ok/artifacts/a%2F..%2F..%2Fx',
    'x',
    400,
    'invalid_name',
  ],
  ['dot segment', 'PUT', '/v1/sessions/ok/artifacts/./a', 'x', 400, 'invalid_name'],
  ['empty segment', 'PUT', '/v1/sessions/ok/artifacts/a//b', 'x', 400, 'invalid_name'],
  ['absolute path', 'PUT', '/v1/sessions/ok/artifacts//etc/passwd', 'x', 400, 'invalid_name'],
  ['backslash', 'PUT', '/v1/sessions/ok/artifacts/a%5Cb', 'x', 400, 'invalid_name'],
  ['control character', 'PUT', '/v1/sessions/ok/artifacts/a%01b', 'x', 400, 'invalid_name'],
  ['trailing slash', 'PUT', '/v1/sessions/ok/artifacts/dir/', 'x', 400, 'invalid_name'],
  ['name over 1024 bytes', 'PUT', `/v1/sessions/ok/artifacts/${long}`, 'x', 400, 'invalid_name'],
  ['invalid UTF-8 in name', 'PUT', '/v1/sessions/ok/artifacts/%C3%28', 'x', 400, 'invalid_path'],
  [
    'session id with space',
    'PUT',
    '/v1/sessions/a%20b/artifacts/x',
    'x',
    400,
    'invalid_session_id',
  ],
  [
    'session id starting with dash',
    'PUT',
    '/v1/sessions/-x/artifacts/x',
    'x',
    400,
    'invalid_session_id',
  ],
  [
    'session id too long',
    'PUT',
    `/v1/sessions/${'s'.repeat(129)}/artifacts/x`,
    'x',
    400,
    'invalid_session_id',
  ],
  [
    'upper-case meta key',
    'PUT',
    '/v1/sessions/ok/artifacts/x?meta.Agent=1',
    'x',
    400,
    'invalid_meta',
  ],
  [
    'meta value over 1024 bytes',
    'PUT',
    `/v1/sessions/ok/artifacts/x?meta.k=${long}`,
    'x',
    400,
    'invalid_meta',
  ],
  ['65 meta keys', 'PUT', `/v1/sessions/ok/artifacts/x?${manyMeta}`, 'x', 400, 'invalid_meta'],
  ['bad ttl', 'PUT', '/v1/sessions/ok/artifacts/x?ttl=soon', 'x', 400, 'invalid_duration'],
  ['zero ttl', 'PUT', '/v1/sessions/ok/artifacts/x?ttl=0s', 'x', 400, 'invalid_duration'],
  [
    'derived_from not an id',
    'PUT',
    '/v1/sessions/ok/artifacts/x?derived_from=../../x',
    'x',
    400,
    'invalid_derived_from',
  ],
  [
    'derived_from unknown id',
    'PUT',
    '/v1/sessions/ok/artifacts/x?derived_from=a_01J00000000000000000000000',
    'x',
    400,
    'invalid_derived_from',
  ],
  [
    'unknown push parameter',
    'PUT',
    '/v1/sessions/ok/artifacts/x?colour=red',
    'x',
    400,
    'invalid_query',
  ],
  [
    'bad sha256 reference',
    'PUT',
    '/v1/sessions/ok/artifacts/x?sha256=abc',
    '',
    400,
    'invalid_sha256',
  ],
  [
    'version zero',
    'GET',
    '/v1/sessions/ok/artifacts/seed.txt?version=0',
    null,
    400,
    'invalid_version',
  ],
  [
    'version not a number',
    'GET',
    '/v1/sessions/ok/artifacts/seed.txt?version=latest',
    null,
    400,
    'invalid_version',
  ],
  ['limit zero', 'GET', '/v1/artifacts?limit=0', null, 400, 'invalid_limit'],
  ['limit over 1000', 'GET', '/v1/artifacts?limit=1001', null, 400, 'invalid_limit'],
  ['garbage cursor', 'GET', '/v1/artifacts?cursor=%%%', null, 400, 'invalid_cursor'],
  [
    'forged cursor',
    'GET',
    `/v1/artifacts?cursor=${Buffer.from('c1.abc').toString('base64url')}`,
    null,
    400,
    'invalid_cursor',
  ],
  ['bad since', 'GET', '/v1/artifacts?since=yesterday', null, 400, 'invalid_time'],
  ['bad type', 'GET', '/v1/artifacts?type=%3Cscript%3E', null, 400, 'invalid_type'],
  ['bad meta filter key', 'GET', '/v1/artifacts?meta.%24x=1', null, 400, 'invalid_meta'],
  ['unknown query parameter', 'GET', '/v1/artifacts?sesion=x', null, 400, 'invalid_query'],
  [
    'repeated single parameter',
    'GET',
    '/v1/artifacts?session=a&session=b',
    null,
    400,
    'invalid_query',
  ],
  [
    'where syntax error',
    'GET',
    `/v1/artifacts?where=${encodeURIComponent("agent = 'x' and")}`,
    null,
    400,
    'invalid_where',
  ],
  [
    'where unterminated string',
    'GET',
    `/v1/artifacts?where=${encodeURIComponent("agent = 'x")}`,
    null,
    400,
    'invalid_where',
  ],
  [
    'where injection attempt',
    'GET',
    `/v1/artifacts?where=${encodeURIComponent("agent = 'x'; DROP TABLE artifacts; --")}`,
    null,
    400,
    'invalid_where',
  ],
  ['bad sealed flag', 'GET', '/v1/sessions?sealed=maybe', null, 400, 'invalid_query'],
  ['create session: not JSON', 'POST', '/v1/sessions', '{oops', 400, 'invalid_json'],
  ['create session: JSON array', 'POST', '/v1/sessions', '[1]', 400, 'invalid_json'],
  ['create session: missing id', 'POST', '/v1/sessions', '{}', 400, 'invalid_session_id'],
  [
    'create session: bad meta',
    'POST',
    '/v1/sessions',
    '{"id":"n1","meta":{"k":1}}',
    400,
    'invalid_meta',
  ],
  [
    'create session: bad ttl',
    'POST',
    '/v1/sessions',
    '{"id":"n1","ttl":5}',
    400,
    'invalid_duration',
  ],
  ['create session: exists', 'POST', '/v1/sessions', '{"id":"ok"}', 409, 'session_exists'],
  ['patch: unknown field', 'PATCH', '/v1/sessions/ok', '{"sealed":false}', 400, 'invalid_request'],
  ['token: bad scope', 'POST', '/v1/tokens', '{"scope":"root"}', 400, 'invalid_scope'],
  [
    'token: inherited name as scope',
    'POST',
    '/v1/tokens',
    '{"scope":"toString"}',
    400,
    'invalid_scope',
  ],
  [
    'token: __proto__ as scope',
    'POST',
    '/v1/tokens',
    '{"scope":"__proto__"}',
    400,
    'invalid_scope',
  ],
  [
    'token: constructor as scope',
    'POST',
    '/v1/tokens',
    '{"scope":"constructor"}',
    400,
    'invalid_scope',
  ],
  ['unknown route', 'GET', '/v1/nothing', null, 404, 'not_found'],
  [
    'push: meta.__proto__',
    'PUT',
    '/v1/sessions/ok/artifacts/p.txt?meta.__proto__=1',
    'x',
    400,
    'invalid_meta',
  ],
  [
    'push: a meta key twice',
    'PUT',
    '/v1/sessions/ok/artifacts/p.txt?meta.a=1&meta.a=2',
    'x',
    400,
    'invalid_meta',
  ],
  [
    'create session: a field it does not take',
    'POST',
    '/v1/sessions',
    '{"id":"n3","pinned":true}',
    400,
    'invalid_request',
  ],
  [
    'token: sessions misspelt',
    'POST',
    '/v1/tokens',
    '{"scope":"write","session":"run_*"}',
    400,
    'invalid_request',
  ],
  ['token: scope as a list', 'POST', '/v1/tokens', '{"scope":["admin"]}', 400, 'invalid_scope'],
  [
    'JSON body with invalid UTF-8',
    'POST',
    '/v1/sessions',
    Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
    400,
    'invalid_json',
  ],
  ['export: unknown parameter', 'GET', '/v1/sessions/ok/export?x=1', null, 400, 'invalid_query'],
  ['wrong method', 'PATCH', '/v1/artifacts', null, 405, 'method_not_allowed'],
  ['request target //', 'GET', '//', null, 400, 'invalid_request'],
  ['request target //a:b', 'GET', '//a:b', null, 400, 'invalid_request'],
  ['absolute target with a bad port', 'GET', 'http://x:99999/', null, 400, 'invalid_request'],
  ['unknown artifact', 'GET', '/v1/artifacts/a_01J00000000000000000000000', null, 404, 'not_found'],
  ['unknown session', 'GET', '/v1/sessions/nobody', null, 404, 'not_found'],
  ['seal unknown session', 'POST', '/v1/sessions/nobody/seal', null, 404, 'not_found'],
  [
    'malformed percent-encoding',
    'GET',
    '/v1/sessions/%E0%A4%A/artifacts/x',
    null,
    400,
    'invalid_path',
  ],
];

describe('bad input gets a clear 4xx with the JSON envelope and loses nothing', () => {
  it.each(cases)('%s', async (_d, method, path, body, status, code) => {
    const headers: Record<string, string> =
      body !== null && method !== 'PUT' ? { 'Content-Type': 'application/json' } : {};
    const res = await raw(method, path, body, headers);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const json = JSON.parse(res.body) as { error: { code: string; message: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeGreaterThan(10);
    expect(json.error.message).not.toMatch(/\/tmp\/|\/work\/|at .*\.ts:\d+/);
  });

  it('a 405 says which methods are allowed, in the Allow header too', async () => {
    const res = await raw('PATCH', '/v1/artifacts', null, {});
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    const ui = await raw('PATCH', '/ui/assets/x', null, {});
    expect(ui.headers.allow).toBe('GET, HEAD');
  });

  it('refuses a Content-Type longer than an export can carry', async () => {
    const res = await raw('PUT', '/v1/sessions/ok/artifacts/long-type.txt', 'x', {
      'Content-Type': `text/plain; x=${'a'.repeat(300)}`,
    });
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe(
      'invalid_content_type',
    );
  });

  it('left no temp files and stored only the seed artifact', async () => {
    expect(readdirSync(join(s.dataDir, 'tmp'))).toEqual([]);
    const all = (await (await s.fetch('/v1/artifacts')).json()) as { items: { name: string }[] };
    expect(all.items.map((a) => a.name)).toEqual(['seed.txt']);
  });

  it('answers oversized headers with a JSON 431', async () => {
    const res = await fetch(`${s.url}/healthz`, { headers: { 'X-Big': 'y'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'headers_too_large',
    );
  });
});
