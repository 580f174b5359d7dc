// Hostile requests at the HTTP level: headers, content types, framing, methods, bodies.
import { ID, json, SHA0, type HostileCase } from './hostile-case.js';

export function headerCases(): HostileCase[] {
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
export function contentTypeCases(): HostileCase[] {
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
export function protocolCases(): HostileCase[] {
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

export function methodCases(): HostileCase[] {
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

export function bodyCases(): HostileCase[] {
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
