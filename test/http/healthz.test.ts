import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// /healthz is what a load balancer asks: both stores reachable, or 503 naming the one that is not.

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const health = async (url: string) => {
  const res = await fetch(`${url}/healthz`);
  const body = (await res.json()) as Record<string, unknown> & {
    error?: { code: string; message: string };
  };
  return { status: res.status, retry: res.headers.get('retry-after'), body };
};

describe('GET /healthz', () => {
  it('answers 200 with both stores ok (and the old status field), without a token', async () => {
    s = await startTestServer();
    expect(await health(s.url)).toEqual({
      status: 200,
      retry: null,
      body: { status: 'ok', ok: true, catalog: 'ok', blobs: 'ok' },
    });
  });

  it('answers 503 naming the blob store while its directory is gone, 200 once it is back', async () => {
    s = await startTestServer();
    const blobs = join(s.dataDir, 'blobs');
    renameSync(blobs, `${blobs}.away`);
    const down = await health(s.url);
    expect(down).toMatchObject({
      status: 503,
      retry: '5',
      body: { status: 'unavailable', ok: false, catalog: 'ok', blobs: 'down' },
    });
    expect(down.body.error?.code).toBe('unavailable');
    expect(down.body.error?.message).toContain('the blob store is unreachable');
    expect(JSON.stringify(down.body)).not.toContain(s.dataDir);
    renameSync(`${blobs}.away`, blobs);
    expect((await health(s.url)).body).toMatchObject({ ok: true, blobs: 'ok' });
  });

  it('answers 503 naming the catalog when it cannot be queried', async () => {
    s = await startTestServer();
    await s.app.catalog.close();
    const down = await health(s.url);
    expect(down).toMatchObject({
      status: 503,
      body: { ok: false, catalog: 'down', blobs: 'ok' },
    });
    expect(down.body.error?.message).toContain('the catalog is unreachable');
  });
});
