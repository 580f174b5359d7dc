import { hostileBatches } from './hostile-batch.js';

/** One hostile request and what it must get: a 4xx (exactly `status` when given). */
export interface HostileCase {
  name: string;
  method: string;
  /** Sent as written (no normalization of `..` or percent-escapes). */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Which token to send: admin (default), read, write, scoped (write on run_*), none. */
  as?: 'admin' | 'read' | 'write' | 'scoped' | 'none';
  /** The status it must get: a 4xx, or 501 for a transfer coding the server does not speak. */
  status?: number;
  /**
   * Sent as these bytes on a bare socket instead (heads an HTTP client would not write: no
   * Host, two of them, other transfer codings); `TOKEN` is replaced by the admin token.
   */
  raw?: string;
}

/** A marker in traversal payloads: no file with it may appear anywhere after the run. */
export const MARK = 'cairnescape7';

const ID = 'a_01J00000000000000000000000';
const SHA0 = '0'.repeat(64);
/** sha256 of 'seed', the bytes the test pushes into session `ok`. */
const SEED_SHA = '19b25856e1c150ca834cffc8b59b23adbd0ec0389e58eb22b3b64768098d002b';
const json = { 'Content-Type': 'application/json' };

/** Pushes of `name` (raw, as it goes in the URL) into session `ok`. */
const names: [string, string][] = [
  ['dotdot', `../${MARK}`],
  ['dotdot deep', `a/../../../../${MARK}`],
  ['encoded dotdot', `%2e%2e/${MARK}`],
  ['mixed encoded dotdot', `.%2e/${MARK}`],
  ['encoded slash dotdot', `a%2F..%2F..%2F${MARK}`],
  ['double-encoded dotdot', `%252e%252e/${MARK}x/..`],
  ['dot', `./${MARK}`],
  ['trailing dot segment', 'a/.'],
  ['trailing dotdot', 'a/..'],
  ['empty segment', 'a//b'],
  ['leading slash', `/etc/${MARK}`],
  ['encoded leading slash', `%2Fetc%2F${MARK}`],
  ['backslash', `a%5C..%5C${MARK}`],
  ['windows drive', `C:%5C${MARK}`],
  ['NUL byte', `a%00${MARK}`],
  ['newline', 'a%0Ab'],
  ['carriage return', 'a%0Db'],
  ['tab', 'a%09b'],
  ['DEL', 'a%7Fb'],
  ['C1 control', 'a%C2%85b'],
  ['escape char', 'a%1Bb'],
  ['trailing slash', 'dir/'],
  ['over 1024 bytes', 'n'.repeat(1025)],
  ['over 1024 bytes multibyte', '%C3%A9'.repeat(513)],
  ['invalid UTF-8 lone continuation', 'a%80b'],
  ['invalid UTF-8 truncated', 'a%C3'],
  ['invalid UTF-8 overlong slash', 'a%C0%AFb'],
  ['invalid UTF-8 surrogate', 'a%ED%A0%80b'],
  ['malformed percent', 'a%zzb'],
  ['percent at end', 'a%'],
];

const sessionIds: [string, string][] = [
  ['space', 'a%20b'],
  ['leading dash', '-x'],
  ['leading dot', '.x'],
  ['dotdot', '..'],
  ['slash encoded', 'a%2Fb'],
  ['over 128 chars', 's'.repeat(129)],
  ['unicode', '%C3%A9t%C3%A9'],
  ['NUL', 'a%00b'],
  ['quote', "a'b"],
  ['semicolon sql', 'a%3BDROP%20TABLE%20sessions'],
  ['invalid UTF-8', 'a%FFb'],
  ['star', 'a*'],
];

const metas: [string, string][] = [
  ['uppercase key', 'meta.Agent=x'],
  ['key starting with dot', 'meta..x=1'],
  ['key starting with dash', 'meta.-x=1'],
  ['empty key', 'meta.=1'],
  ['key over 64', `meta.${'k'.repeat(65)}=1`],
  ['key with space', 'meta.a%20b=1'],
  ['key with slash', 'meta.a%2Fb=1'],
  ['value over 1024 bytes', `meta.k=${'v'.repeat(1025)}`],
  ['value invalid UTF-8', 'meta.k=%FF%FE'],
  ['value lone surrogate', 'meta.k=%ED%B0%80'],
  ['65 keys', Array.from({ length: 65 }, (_, i) => `meta.k${i}=v`).join('&')],
  ['unicode key', 'meta.%C3%A9=1'],
];

const durations = [
  'abc',
  '-1d',
  '1y',
  '0.5h',
  '1.5h',
  '99999999999999999999d',
  '1e9d',
  'd',
  '7dd',
  '1d1h',
  'P1D',
  'Infinity',
  'NaN',
];

const cursors = [
  'garbage',
  '%FF%FE',
  '-1',
  '99999999999999999999999999',
  'eyJzZXEiOiJ4In0',
  'AAAA',
  "'%20OR%201=1",
  'x'.repeat(300),
];

const wheres = [
  "agent%20=%20'x",
  '(agent%20=%201',
  'agent%20=%201)',
  'agent%20==%201',
  'agent%20=',
  '=%201',
  'and',
  'agent%20in%20()',
  "agent%20in%20('a'",
  `${'('.repeat(100)}a=1${')'.repeat(100)}`,
  `a%20in%20(${Array.from({ length: 300 }, (_, i) => i).join(',')})`,
  "x%20=%20''%20OR%201=1%20--",
  'x%20=%201;%20DROP%20TABLE%20artifacts',
  'x%20~',
  'x%20exists%20exists',
  `a=${'1'.repeat(5000)}`,
  "a%20=%20'%FF'",
  'a%20%3C%3E%201',
  'Agent%20=%201',
  "a%20=%20'unterminated",
  'a%20=%201%20or',
  '%00',
  'sha256%20=%20',
  // `not` counts toward the nesting limit like parentheses (1,000 of them used to be a 500).
  `${'not%20'.repeat(1000)}a=1`,
  `${'not%20'.repeat(33)}a=1`,
  `${'not%20('.repeat(20)}a=1${')'.repeat(20)}`,
];

const queries: [string, string][] = [
  ['unknown param', '/v1/artifacts?frobnicate=1'],
  ['limit 0', '/v1/artifacts?limit=0'],
  ['limit 1001', '/v1/artifacts?limit=1001'],
  ['limit negative', '/v1/artifacts?limit=-5'],
  ['limit text', '/v1/artifacts?limit=ten'],
  ['limit twice', '/v1/artifacts?limit=1&limit=2'],
  ['limit huge', '/v1/artifacts?limit=9999999999999999999999'],
  ['since garbage', '/v1/artifacts?since=yesterday'],
  ['until garbage', '/v1/artifacts?until=2026-13-45'],
  ['latest not bool', '/v1/artifacts?latest=maybe'],
  ['type malformed', '/v1/artifacts?type=%FF'],
  ['sessions unknown param', '/v1/sessions?x=1'],
  ['sessions sealed not bool', '/v1/sessions?sealed=perhaps'],
  ['sessions limit 0', '/v1/sessions?limit=0'],
  ['version 0', '/v1/sessions/ok/artifacts/seed.txt?version=0'],
  ['version text', '/v1/sessions/ok/artifacts/seed.txt?version=latest'],
  ['version negative', '/v1/sessions/ok/artifacts/seed.txt?version=-1'],
  ['wait bad timeout', '/v1/sessions/ok/wait?until=sealed&timeout=forever'],
  ['gc unknown param', '/v1/gc?now=1'],
  ['fsck repair not bool', '/v1/fsck?repair=please'],
];

/** The whole corpus (≥ 200 requests). */
export function hostileCorpus(): HostileCase[] {
  const c: HostileCase[] = [];
  for (const [n, raw] of names) {
    c.push({
      name: `push name: ${n}`,
      method: 'PUT',
      path: `/v1/sessions/ok/artifacts/${raw}`,
      body: 'x',
    });
    c.push({ name: `read name: ${n}`, method: 'GET', path: `/v1/sessions/ok/artifacts/${raw}` });
  }
  for (const [n, raw] of sessionIds) {
    c.push({
      name: `push session: ${n}`,
      method: 'PUT',
      path: `/v1/sessions/${raw}/artifacts/x`,
      body: 'x',
    });
    c.push({ name: `seal session: ${n}`, method: 'POST', path: `/v1/sessions/${raw}/seal` });
    c.push({
      name: `create session: ${n}`,
      method: 'POST',
      path: '/v1/sessions',
      body: JSON.stringify({
        id:
          decodeURIComponent(raw.replace(/%FF|%00/g, '')) +
          (raw.includes('%FF') ? '\uFFFF' : raw.includes('%00') ? '\u0000' : ''),
      }),
      headers: json,
    });
  }
  for (const [n, q] of metas) {
    c.push({
      name: `push meta: ${n}`,
      method: 'PUT',
      path: `/v1/sessions/ok/artifacts/m.txt?${q}`,
      body: 'x',
      status: 400,
    });
    // A filter on a value longer than any stored one just matches nothing.
    if (n !== 'value over 1024 bytes')
      c.push({ name: `query meta: ${n}`, method: 'GET', path: `/v1/artifacts?${q}` });
  }
  const badMetaBodies: [string, unknown][] = [
    ['meta not an object', 'x'],
    ['meta array', ['a']],
    ['meta number value', { k: 1 }],
    ['meta null value', { k: null }],
    ['meta nested', { k: { x: 1 } }],
    ['meta bool', { k: true }],
    ['meta 65 keys', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))],
    ['meta bad key', { 'Bad Key': 'v' }],
    ['meta huge value', { k: 'v'.repeat(2000) }],
    ['meta proto key', JSON.parse('{"__proto__":{"polluted":"yes"}}')],
  ];
  for (const [n, meta] of badMetaBodies) {
    c.push({
      name: `create session ${n}`,
      method: 'POST',
      path: '/v1/sessions',
      body: JSON.stringify({ id: `m_${c.length}`, meta }),
      headers: json,
      status: 400,
    });
    c.push({
      name: `patch session ${n}`,
      method: 'PATCH',
      path: '/v1/sessions/ok',
      body: JSON.stringify({ meta }),
      headers: json,
      status: 400,
    });
  }
  for (const d of durations) {
    c.push({
      name: `push ttl ${d}`,
      method: 'PUT',
      path: `/v1/sessions/ok/artifacts/t.txt?ttl=${d}`,
      body: 'x',
      status: 400,
    });
    c.push({
      name: `share ttl ${d}`,
      method: 'POST',
      path: '/v1/sessions/ok/share',
      body: JSON.stringify({ ttl: decodeURIComponent(d) }),
      headers: json,
      status: 400,
    });
  }
  for (const bad of [1, true, ['1d'], { d: 1 }, ''])
    c.push({
      name: `session ttl ${JSON.stringify(bad)}`,
      method: 'POST',
      path: '/v1/sessions',
      body: JSON.stringify({ id: `t_${c.length}`, ttl: bad }),
      headers: json,
      status: 400,
    });
  for (const cur of cursors) {
    c.push({
      name: `artifacts cursor ${cur.slice(0, 20)}`,
      method: 'GET',
      path: `/v1/artifacts?cursor=${cur}`,
    });
    c.push({
      name: `sessions cursor ${cur.slice(0, 20)}`,
      method: 'GET',
      path: `/v1/sessions?cursor=${cur}`,
    });
  }
  for (const w of wheres) {
    c.push({
      name: `where ${w.slice(0, 30)}`,
      method: 'GET',
      path: `/v1/artifacts?where=${w}`,
      status: 400,
    });
    c.push({
      name: `sessions where ${w.slice(0, 30)}`,
      method: 'GET',
      path: `/v1/sessions?where=${w}`,
      status: 400,
    });
  }
  for (const [n, p] of queries)
    c.push({
      name: `query: ${n}`,
      method: p.startsWith('/v1/gc') || p.startsWith('/v1/fsck') ? 'POST' : 'GET',
      path: p,
      status: 400,
    });
  c.push(...headerCases(), ...methodCases(), ...bodyCases(), ...shareCases(), ...authCases());
  c.push(...contentTypeCases(), ...protocolCases(), ...hostileBatches());
  return c;
}

function headerCases(): HostileCase[] {
  const put = (name: string, headers: Record<string, string>, status?: number): HostileCase => ({
    name,
    method: 'PUT',
    path: '/v1/sessions/ok/artifacts/h.txt',
    body: 'hello',
    headers,
    status,
  });
  return [
    put(
      'digest wrong',
      { 'Content-Digest': `sha-256=:${Buffer.alloc(32).toString('base64')}:` },
      400,
    ),
    put('digest not base64', { 'Content-Digest': 'sha-256=:!!!!:' }, 400),
    put('digest short', { 'Content-Digest': 'sha-256=:AAAA:' }, 400),
    put('digest no colons', { 'Content-Digest': 'sha-256=abc' }, 400),
    put('digest empty', { 'Content-Digest': 'sha-256=::' }, 400),
    put('digest hex instead of base64', { 'Content-Digest': `sha-256=:${'ab'.repeat(32)}:` }, 400),
    put('content-length over max', { 'Content-Length': '99999999999999' }),
    {
      name: 'by-reference with a body',
      method: 'PUT',
      path: `/v1/sessions/ok/artifacts/r.txt?sha256=${SHA0}`,
      body: 'x',
      status: 400,
    },
    {
      name: 'by-reference unknown blob',
      method: 'PUT',
      path: `/v1/sessions/ok/artifacts/r.txt?sha256=${SHA0}`,
      status: 404,
    },
    {
      name: 'by-reference bad hash',
      method: 'PUT',
      path: '/v1/sessions/ok/artifacts/r.txt?sha256=xyz',
      status: 400,
    },
    { name: 'blob HEAD bad hash', method: 'HEAD', path: '/v1/blobs/not-a-hash' },
    { name: 'blob HEAD uppercase', method: 'HEAD', path: `/v1/blobs/${'A'.repeat(64)}` },
    {
      name: 'range unsatisfiable',
      method: 'GET',
      path: '/v1/sessions/ok/artifacts/seed.txt',
      headers: { Range: 'bytes=999-1000' },
      status: 416,
    },
    {
      name: 'huge header',
      method: 'GET',
      path: '/v1/artifacts',
      headers: { 'X-Big': 'x'.repeat(20_000) },
      status: 431,
    },
    {
      name: 'huge URL',
      method: 'GET',
      path: `/v1/artifacts?where=${'a'.repeat(20_000)}`,
      status: 431,
    },
    {
      name: 'json body wrong type',
      method: 'POST',
      path: '/v1/sessions',
      body: '{"id":"ct1"}',
      headers: { 'Content-Type': 'text/plain' },
      status: 400,
    },
  ];
}

/** Content-Type values that are not media types (RFC 9110), each a 400 saying what is wrong. */
function contentTypeCases(): HostileCase[] {
  const types: [string, string][] = [
    ['markup injection', 'text/html"><script>alert(1)</script>'],
    ['media range */*', '*/*'],
    ['wildcard subtype', 'text/*'],
    ['no slash', 'texthtml'],
    ['empty subtype', 'text/'],
    ['space in type', 'te xt/plain'],
    ['parameter without value', 'text/plain; charset'],
    ['unterminated quoted parameter', 'text/plain; name="x'],
    ['junk after subtype', 'text/plain <b>'],
    ['second slash', 'text/plain/x'],
  ];
  return types.map(([name, type]) => ({
    name: `content-type ${name}`,
    method: 'PUT',
    path: '/v1/sessions/ok/artifacts/ct.txt',
    body: 'hello',
    headers: { 'Content-Type': type },
    status: 400,
  }));
}

/** Heads node:http answers by itself unless told otherwise, and transfer codings. */
function protocolCases(): HostileCase[] {
  const auth = 'Authorization: Bearer TOKEN\r\n';
  const put = 'PUT /v1/sessions/ok/artifacts/te.txt HTTP/1.1\r\nHost: x\r\n' + auth;
  const chunked = '5\r\nhello\r\n0\r\n\r\n';
  const raw = (name: string, text: string, status: number): HostileCase => ({
    name,
    method: text.slice(0, text.indexOf(' ')),
    path: text.slice(text.indexOf(' ') + 1, text.indexOf(' HTTP/')),
    raw: text,
    status,
  });
  return [
    raw(
      'transfer-encoding gzip, chunked',
      `${put}Transfer-Encoding: gzip, chunked\r\n\r\n${chunked}`,
      501,
    ),
    raw('transfer-encoding gzip alone', `${put}Transfer-Encoding: gzip\r\n\r\nhello`, 501),
    raw(
      'transfer-encoding in two headers',
      `${put}Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
      501,
    ),
    raw('no Host', `GET /v1/artifacts HTTP/1.1\r\n${auth}\r\n`, 400),
    raw('two Hosts', `GET /v1/artifacts HTTP/1.1\r\nHost: a\r\nHost: b\r\n${auth}\r\n`, 400),
    raw(
      'Expect: 200-ok',
      `GET /v1/artifacts HTTP/1.1\r\nHost: x\r\n${auth}Expect: 200-ok\r\n\r\n`,
      417,
    ),
    raw('Expect: 200-ok on a push', `${put}Expect: 200-ok\r\nContent-Length: 5\r\n\r\nhello`, 417),
    raw('CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405),
    raw(
      'Content-Length and Transfer-Encoding',
      `${put}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
      400,
    ),
  ];
}

function methodCases(): HostileCase[] {
  const m = (method: string, path: string, status?: number): HostileCase => ({
    name: `${method} ${path}`,
    method,
    path,
    status,
  });
  return [
    m('PATCH', '/v1/sessions/ok/artifacts/seed.txt', 405),
    m('POST', '/v1/artifacts', 405),
    m('PUT', '/v1/artifacts', 405),
    m('DELETE', '/v1/artifacts', 405),
    m('DELETE', '/v1/tokens', 405),
    m('PUT', '/v1/sessions/ok/seal', 405),
    m('OPTIONS', '/v1/artifacts'),
    m('TRACE', '/v1/artifacts'),
    m('PROPFIND', '/v1/artifacts'),
    m('GET', '/v2/artifacts', 404),
    m('GET', '/v1', 404),
    m('GET', '/etc/passwd', 404),
    m('GET', `/v1/artifacts/${ID}`, 404),
    m('GET', '/v1/artifacts/../../etc/passwd', 404),
    m('DELETE', `/v1/artifacts/${ID}`, 404),
    m('DELETE', '/v1/tokens/nope', 404),
    m('DELETE', '/v1/shares/nope', 404),
    m('GET', '/v1/sessions/nope', 404),
    m('POST', '/v1/sessions/nope/seal', 404),
    m('DELETE', '/v1/sessions/sealed1'),
    m('PUT', '/v1/sessions/sealed1/artifacts/late.txt', 409),
  ];
}

function bodyCases(): HostileCase[] {
  const post = (
    name: string,
    body: string | Buffer,
    status?: number,
    path = '/v1/sessions',
  ): HostileCase => ({
    name,
    method: 'POST',
    path,
    body,
    headers: json,
    status,
  });
  return [
    post('JSON invalid', '{"id":', 400),
    post('JSON trailing garbage', '{"id":"j1"} x', 400),
    post('JSON array', '[1,2]', 400),
    post('JSON string', '"x"', 400),
    post('JSON null', 'null', 400),
    post('JSON number', '42', 400),
    post('JSON deep array bomb', '['.repeat(200_000) + ']'.repeat(200_000), 400),
    post('JSON deep object bomb', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), 400),
    post('JSON over 1 MiB', JSON.stringify({ id: 'big', pad: 'x'.repeat(1_100_000) }), 413),
    post(
      'JSON invalid UTF-8',
      Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      400,
    ),
    post(
      'JSON BOM',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"id":"bom1"}')]),
    ),
    post('JSON id number', '{"id":5}', 400),
    post(
      'JSON many keys',
      JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))),
    ),
    post('token scope bogus', '{"scope":"root"}', 400, '/v1/tokens'),
    post('token scope missing', '{}', 400, '/v1/tokens'),
    post('token sessions glob not string', '{"scope":"read","sessions":5}', 400, '/v1/tokens'),
    post(
      'token admin with sessions glob',
      '{"scope":"admin","sessions":"run_*"}',
      400,
      '/v1/tokens',
    ),
    post('share max_downloads negative', '{"max_downloads":-1}', 400, '/v1/sessions/ok/share'),
    post('share max_downloads text', '{"max_downloads":"many"}', 400, '/v1/sessions/ok/share'),
    post('share max_downloads float', '{"max_downloads":1.5}', 400, '/v1/sessions/ok/share'),
    post('import not a tar', 'this is not a tar', undefined, '/v1/import'),
    post('import empty', '', undefined, '/v1/import'),
    post('mcp garbage', 'not json-rpc', undefined, '/mcp'),
    post('mcp wrong version', '{"jsonrpc":"1.0","id":1,"method":"x"}', undefined, '/mcp'),
  ];
}

function shareCases(): HostileCase[] {
  const s = (name: string, token: string, status?: number): HostileCase => ({
    name: `share ${name}`,
    method: 'GET',
    path: `/s/${token}`,
    as: 'none',
    status,
  });
  return [
    s('forged', 'A'.repeat(43), 404),
    s('forged short', 'abc', 404),
    s('forged long', 'x'.repeat(5000)),
    s('percent junk', '%FF%FE'),
    s('dotdot', '..'),
    s('encoded slash', 'a%2Fb'),
    s('NUL', 'a%00b'),
    s('sql', "'%20OR%201=1--"),
  ];
}

function authCases(): HostileCase[] {
  const a = (
    name: string,
    method: string,
    path: string,
    as: HostileCase['as'],
    headers: Record<string, string> = {},
    status?: number,
  ): HostileCase => ({
    name: `auth ${name}`,
    method,
    path,
    as,
    headers,
    status,
    body: method === 'PUT' ? 'x' : undefined,
  });
  return [
    a('none push', 'PUT', '/v1/sessions/ok/artifacts/a.txt', 'none', {}, 401),
    a('none list', 'GET', '/v1/artifacts', 'none', {}, 401),
    a(
      'basic auth',
      'GET',
      '/v1/artifacts',
      'none',
      { Authorization: 'Basic YWRtaW46YWRtaW4=' },
      401,
    ),
    a('empty bearer', 'GET', '/v1/artifacts', 'none', { Authorization: 'Bearer ' }, 401),
    a('bearer two words', 'GET', '/v1/artifacts', 'none', { Authorization: 'Bearer a b' }, 401),
    a(
      'forged bearer',
      'GET',
      '/v1/artifacts',
      'none',
      { Authorization: `Bearer cairn_${'0'.repeat(43)}` },
      401,
    ),
    a(
      'huge bearer',
      'GET',
      '/v1/artifacts',
      'none',
      { Authorization: `Bearer ${'t'.repeat(8000)}` },
      401,
    ),
    a('bearer with NUL-ish', 'GET', '/v1/artifacts', 'none', { Authorization: 'Bearer %00' }, 401),
    a('token in query', 'GET', '/v1/artifacts?token=x', 'none', {}, 401),
    a('read pushes', 'PUT', '/v1/sessions/ok/artifacts/a.txt', 'read', {}, 403),
    a('read seals', 'POST', '/v1/sessions/ok/seal', 'read', {}, 403),
    a('read deletes', 'DELETE', `/v1/artifacts/${ID}`, 'read', {}, 403),
    a('read makes token', 'POST', '/v1/tokens', 'read', json, 403),
    a('read runs gc', 'POST', '/v1/gc', 'read', {}, 403),
    a('read backup', 'GET', '/v1/backup', 'read', {}, 403),
    a('write makes token', 'POST', '/v1/tokens', 'write', json, 403),
    a('write lists tokens', 'GET', '/v1/tokens', 'write', {}, 403),
    a('write runs fsck', 'POST', '/v1/fsck', 'write', {}, 403),
    a('write backup', 'GET', '/v1/backup', 'write', {}, 403),
    a('scoped writes elsewhere', 'PUT', '/v1/sessions/prod/artifacts/a.txt', 'scoped', {}, 403),
    a('scoped seals elsewhere', 'POST', '/v1/sessions/ok/seal', 'scoped', {}, 403),
    // A token limited to run_* reads nothing of session `ok`: to it, `ok` does not exist.
    a('scoped reads a session elsewhere', 'GET', '/v1/sessions/ok', 'scoped', {}, 404),
    a(
      'scoped reads bytes elsewhere',
      'GET',
      '/v1/sessions/ok/artifacts/seed.txt',
      'scoped',
      {},
      404,
    ),
    a('scoped reads a manifest elsewhere', 'GET', '/v1/sessions/ok/manifest', 'scoped', {}, 404),
    a('scoped exports elsewhere', 'GET', '/v1/sessions/ok/export', 'scoped', {}, 404),
    a('scoped waits elsewhere', 'GET', '/v1/sessions/ok/wait?timeout=30s', 'scoped', {}, 404),
    a('scoped watches events elsewhere', 'GET', '/v1/events?session=ok', 'scoped', {}, 404),
    {
      name: 'auth scoped pushes by hidden reference',
      method: 'PUT',
      path: `/v1/sessions/run_1/artifacts/r?sha256=${SEED_SHA}`,
      body: '',
      as: 'scoped',
      status: 404,
    },
  ];
}

/** Where an expensive where= looks: a metadata key no artifact has. */
export const MISSING_KEY = 'nokey';

/**
 * The costliest `where=` expressions found inside the length and nesting limits: every term
 * tests every artifact (no term implies an equality the planner could drive from), so each
 * costs artifacts × terms — seconds at 10,000 artifacts. Refused with 400
 * `query_too_expensive` once past the query budget (expensive-query.test.ts), and meanwhile
 * they must hold nothing else up. Raw text, not URL-encoded.
 */
export function expensiveWheres(): [string, string][] {
  const k = MISSING_KEY;
  const upTo = (terms: string[], sep: string): string => {
    let out = terms[0];
    for (const t of terms.slice(1)) {
      if (out.length + sep.length + t.length > 4096) break;
      out += sep + t;
    }
    return out;
  };
  const many = (f: (i: number) => string) => Array.from({ length: 2000 }, (_, i) => f(i));
  return [
    [
      'or-ed equalities',
      upTo(
        many((i) => `${k}='${i}'`),
        ' or ',
      ),
    ],
    [
      'or-ed numeric comparisons',
      upTo(
        many((i) => `${k}>${i}`),
        ' or ',
      ),
    ],
    [
      'or-ed globs',
      upTo(
        many((i) => `${k}~'*${i}*'`),
        ' or ',
      ),
    ],
  ];
}
