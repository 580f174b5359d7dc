import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestServer, type TestServer } from './server.js';

/** A never-used artifact id. */
export const MISSING_ID = 'a_01J00000000000000000000000';

/**
 * A server with sessions inside (`in_1`, `in_2`) and outside (`out_1..3`) the glob `in_*`,
 * interleaved so a filter applied to a page after the fact would leave it short, and a read
 * and a write token limited to `in_*`. `f` holds ids by short name: artifacts `inA`, `inB`
 * (derived from `inA` and `outA`), `outA`, `outC` (derived from `inA`); content hashes `inSha`
 * and `outSha` (bytes only `out_1` holds); `share_<artifact id>` for links to `inA` and `outA`.
 * Both sessions are sealed, `in_1` last, so its seal is the newest event.
 */
export interface ReadScopeFixture {
  s: TestServer;
  tokens: Record<'read' | 'write', string>;
  f: Record<string, string>;
  /** A request with `token`. */
  as: (token: string, path: string, method?: string) => Promise<Response>;
}

/** Starts the server of {@link ReadScopeFixture} and fills it. */
export async function startReadScopeFixture(): Promise<ReadScopeFixture> {
  const s = await startTestServer();
  const tokens = { read: '', write: '' };
  const f: Record<string, string> = {};
  const json = { 'Content-Type': 'application/json' };
  for (const scope of ['read', 'write'] as const) {
    const body = JSON.stringify({ scope, sessions: 'in_*' });
    const res = await s.fetch('/v1/tokens', { method: 'POST', headers: json, body });
    tokens[scope] = ((await res.json()) as { token: string }).token;
  }
  for (const id of ['out_2', 'in_2', 'out_3']) {
    const res = await s.fetch('/v1/sessions', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ id }),
    });
    expect(res.status).toBe(201);
  }
  const push = async (path: string, body: string) => {
    const res = await s.fetch(`/v1/sessions/${path}`, { method: 'PUT', body });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  f.inA = await push('in_1/artifacts/a.txt', 'inside a');
  f.outA = await push('out_1/artifacts/a.txt', 'outside only');
  f.outC = await push(`out_1/artifacts/c.txt?derived_from=${f.inA}`, 'outside c');
  f.inB = await push(`in_1/artifacts/b.txt?derived_from=${f.inA}&derived_from=${f.outA}`, 'b');
  f.inSha = createHash('sha256').update('inside a').digest('hex');
  f.outSha = createHash('sha256').update('outside only').digest('hex');
  for (const id of [f.inA, f.outA]) {
    const res = await s.fetch(`/v1/artifacts/${id}/share`, { method: 'POST' });
    f[`share_${id}`] = ((await res.json()) as { id: string }).id;
  }
  await s.fetch('/v1/sessions/out_1/seal', { method: 'POST' });
  await s.fetch('/v1/sessions/in_1/seal', { method: 'POST' });
  const as = (token: string, path: string, method = 'GET') =>
    fetch(s.url + path, { method, headers: { Authorization: `Bearer ${token}` } });
  return { s, tokens, f, as };
}

/**
 * The fixture for the calling test file: started in `beforeAll`, closed in `afterAll`. Read its
 * fields inside tests and hooks (they are filled only once `beforeAll` has run).
 */
export function useReadScopeFixture(): ReadScopeFixture {
  const x = {} as ReadScopeFixture;
  beforeAll(async () => {
    Object.assign(x, await startReadScopeFixture());
  });
  afterAll(async () => x.s?.close());
  return x;
}
