// Hostile values for each parameter of the API (path segments, query, JSON fields).
import { json, MARK, type HostileCase } from './hostile-case.js';

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

/** Bad values in every parameter position: names, session ids, metadata, ttl, cursors, where=, query parameters. */
export function paramCases(): HostileCase[] {
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
  return c;
}
