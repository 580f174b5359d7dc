import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/server/routes/index.js';
import { concretePath } from '../helpers/routes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The catalog now holds the seal key's private half and the bootstrap admin token (table
// `secrets`, for every node sharing it). No route may hand either out: every GET route of the
// table, called with the admin token, answers without them. The one exception is the backup,
// which is by design the admin's copy of the whole store, seal key included.

let s: TestServer;
let secrets: string[];
beforeAll(async () => {
  s = await startTestServer();
  const put = await s.fetch('/v1/sessions/auth_s/artifacts/x.txt', { method: 'PUT', body: 'x' });
  expect(put.status).toBe(201);
  const pem = readFileSync(join(s.dataDir, 'seal.key'), 'utf8');
  // The key's base64 body, line by line (any line of it would be a leak), and the token.
  secrets = [...pem.split('\n').filter((l) => l && !l.startsWith('-----')), s.token];
  expect(await s.app.catalog.secrets.get('seal_key')).toBe(pem);
});
afterAll(async () => s.close());

/** The body a route answers, up to 1 MiB or until it has been quiet for 1 s (streams). */
async function body(path: string): Promise<string> {
  let text = '';
  try {
    const res = await s.fetch(path, { signal: AbortSignal.timeout(1000) });
    for await (const chunk of res.body ?? []) {
      text += Buffer.from(chunk as Uint8Array).toString('latin1');
      if (text.length > 1 << 20) break;
    }
  } catch {
    // An event stream or a long-poll cut by the timeout: what arrived is what it served.
  }
  return text;
}

const GETS = allRoutes().filter((r) => r.method === 'GET' && r.path !== '/v1/backup');

describe('no route serves the seal key or the admin token', () => {
  it.each(GETS.map((r) => [r.path]))('GET %s', async (path) => {
    const text = await body(concretePath(path));
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
