// Hostile requests at the access level: forged share links, bad or misused tokens.
import { ID, json, SEED_SHA, type HostileCase } from './hostile-case.js';

export function shareCases(): HostileCase[] {
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

export function authCases(): HostileCase[] {
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
