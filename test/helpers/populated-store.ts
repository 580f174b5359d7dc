import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import type { TestServer } from './server.js';

/** What {@link populate} made that a copy of the store must still honour. */
export interface Populated {
  /** Plaintext of a read token (only its hash is stored). */
  readToken: string;
  /** Path (`/s/…`) of a share link, and the bytes it serves. */
  sharePath: string;
  shareBody: string;
  sealed: string[];
  /** An artifact with lineage (a parent in another session). */
  childId: string;
  /** Bytes of every artifact by id, small (inline in the catalog) and large (blob files). */
  bytes: Map<string, Buffer>;
}

async function put(s: TestServer, path: string, body: Buffer | string, query = '') {
  const [sid, ...name] = path.split('/');
  const res = await s.fetch(`/v1/sessions/${sid}/artifacts/${name.join('/')}${query}`, {
    method: 'PUT',
    body,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
}

async function call(s: TestServer, method: string, path: string, body?: unknown) {
  const res = await s.fetch(path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * Fills a store with one of everything a copy must bring back: sealed and open sessions
 * (with meta, a TTL, keep-last-N, a pin), versions, small and large blobs (one shared by two
 * artifacts), lineage across sessions, an artifact TTL, a share link and a read token.
 */
export async function populate(s: TestServer): Promise<Populated> {
  const bytes = new Map<string, Buffer>();
  const push = async (path: string, body: Buffer, query = '') => {
    const rec = await put(s, path, body, query);
    bytes.set(rec.id, body);
    return rec;
  };
  const small = Buffer.from('small and inline\n');
  const large = randomBytes(200_000);
  const parent = await push('sealed1/report.md', small, '?meta.agent=claude');
  await push('sealed1/data.bin', large, '?meta.stage=qa');
  await push('sealed1/report.md', Buffer.from('version two\n'));
  await call(s, 'POST', '/v1/sessions/sealed1/seal');
  await call(s, 'POST', '/v1/sessions', { id: 'open1', meta: { team: 'x' }, ttl: '30d' });
  await call(s, 'PATCH', '/v1/sessions/open1', { keep_versions: 2 });
  for (let v = 1; v <= 3; v++) await push('open1/v.txt', Buffer.from(`v${v}\n`));
  const child = await push('open1/derived.bin', large, `?derived_from=${parent.id}&ttl=10d`);
  await push('pinned1/keep.txt', randomBytes(70_000));
  await call(s, 'PUT', '/v1/sessions/pinned1/pin');
  await push('sealed2/only.txt', Buffer.from('second sealed\n'));
  await call(s, 'POST', '/v1/sessions/sealed2/seal');
  const share = await call(s, 'POST', `/v1/artifacts/${parent.id}/share`, { ttl: '1d' });
  const token = await call(s, 'POST', '/v1/tokens', { scope: 'read', name: 'reader' });
  return {
    readToken: token.token as string,
    sharePath: new URL(share.url as string).pathname,
    shareBody: 'small and inline\n',
    sealed: ['sealed1', 'sealed2'],
    childId: child.id,
    bytes,
  };
}

/**
 * What the store answers about its content (sessions, artifacts, shares, tokens without their
 * last use, lineage): equal before and after a copy. Uses the admin token, so token last-use
 * times are left out.
 */
export async function describeStore(s: TestServer, p: Populated): Promise<unknown> {
  const get = async (path: string) => {
    const res = await s.fetch(path);
    expect(res.status, path).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const tokens = (await get('/v1/tokens')).items as Record<string, unknown>[];
  return {
    sessions: await get('/v1/sessions?limit=100'),
    artifacts: await get('/v1/artifacts?limit=1000'),
    shares: await get('/v1/shares'),
    tokens: tokens.map((t) => ({ ...t, last_used_at: undefined })),
    lineage: await get(`/v1/artifacts/${p.childId}/lineage`),
    manifests: await Promise.all(p.sealed.map((id) => get(`/v1/sessions/${id}/manifest`))),
  };
}

/**
 * Checks a copy of a populated store, served by `s`: every sealed session verifies with the
 * real `cairn verify`, `cairn fsck` is clean, every artifact's bytes are there, the read token
 * and the share link still work, and version numbers go on where they were.
 */
export async function checkCopy(s: TestServer, p: Populated): Promise<void> {
  const env = { CAIRN_URL: s.url, CAIRN_TOKEN: s.token };
  for (const id of p.sealed) {
    const v = await runCli(['verify', id], { env });
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(v.stdout).toContain("(this server's key)");
  }
  const fsck = await runCli(['fsck'], { env });
  expect(fsck.code, fsck.stdout + fsck.stderr).toBe(0);
  for (const [id, body] of p.bytes) {
    const res = await s.fetch(`/v1/artifacts/${id}/content`);
    if (res.status === 404) continue; // pruned by keep-last-N before the copy
    expect(Buffer.from(await res.arrayBuffer()).equals(body), id).toBe(true);
  }
  const read = await fetch(`${s.url}/v1/sessions`, {
    headers: { Authorization: `Bearer ${p.readToken}` },
  });
  expect(read.status).toBe(200);
  const share = await fetch(`${s.url}${p.sharePath}`);
  expect(share.status).toBe(200);
  expect(await share.text()).toBe(p.shareBody);
  // The version counter came along: the next push of v.txt is version 4, and keep-last-N holds.
  const next = await put(s, 'open1/v.txt', Buffer.from('v4\n'));
  expect((next as unknown as { version: number }).version).toBe(4);
  const versions = (await (await s.fetch('/v1/artifacts?session=open1&name=v.txt')).json()) as {
    items: unknown[];
  };
  expect(versions.items).toHaveLength(2);
}
