import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
// Buffers, not strings: fetch would label a string body text/plain.
const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  s.fetch(path, { method: 'PUT', body: Buffer.from(body), headers });
// Through the store, not the directory: small blobs live in the catalog, large ones as files.
const blobFiles = async () => {
  const hashes: string[] = [];
  for await (const h of s.app.blobs.list()) hashes.push(h);
  return hashes;
};
const tmpFiles = () => readdirSync(join(s.dataDir, 'tmp'));

describe('push', () => {
  it('answers 201 with the record and stores the bytes content-addressed', async () => {
    const res = await put(
      '/v1/sessions/p1/artifacts/reports/q3.md?meta.agent=claude&meta.stage=qa',
      '# Q3',
    );
    expect(res.status).toBe(201);
    const rec = (await res.json()) as Record<string, unknown>;
    expect(rec).toMatchObject({
      session: 'p1',
      name: 'reports/q3.md',
      version: 1,
      sha256: sha('# Q3'),
      size: 4,
      content_type: 'text/markdown',
      meta: { agent: 'claude', stage: 'qa' },
      deduplicated: false,
      derived_from: [],
      expires_at: null,
    });
    expect(rec.id).toMatch(/^a_[0-9A-Z]{26}$/);
    expect(await blobFiles()).toContain(sha('# Q3'));
  });

  it('versions a repeated name; reads default to the latest, ?version=N for another', async () => {
    await put('/v1/sessions/p2/artifacts/log.txt', 'one');
    const v2 = (await (await put('/v1/sessions/p2/artifacts/log.txt', 'two')).json()) as {
      version: number;
    };
    expect(v2.version).toBe(2);
    expect(await (await s.fetch('/v1/sessions/p2/artifacts/log.txt')).text()).toBe('two');
    expect(await (await s.fetch('/v1/sessions/p2/artifacts/log.txt?version=1')).text()).toBe('one');
    expect((await s.fetch('/v1/sessions/p2/artifacts/log.txt?version=9')).status).toBe(404);
  });

  it('takes the content type from the request, else from the name, else octet-stream', async () => {
    const a = await (
      await put('/v1/sessions/p3/artifacts/x.bin2', 'x', {
        'Content-Type': 'application/vnd.custom+json',
      })
    ).json();
    const b = await (await put('/v1/sessions/p3/artifacts/data.csv', 'a,b')).json();
    const c = await (await put('/v1/sessions/p3/artifacts/noext', 'z')).json();
    expect([a, b, c].map((r) => (r as { content_type: string }).content_type)).toEqual([
      'application/vnd.custom+json',
      'text/csv',
      'application/octet-stream',
    ]);
  });

  it('dedupes: 20 concurrent pushes of identical bytes store one blob', async () => {
    const body = Buffer.alloc(200_000, 'q');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => put(`/v1/sessions/dd/artifacts/copy-${i}`, body)),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const recs = (await Promise.all(results.map((r) => r.json()))) as { deduplicated: boolean }[];
    expect(recs.filter((r) => !r.deduplicated).length).toBe(1);
    expect((await blobFiles()).filter((f) => f === sha(body)).length).toBe(1);
    expect(await s.app.catalog.blobRefs(sha(body))).toBe(20);
    expect(tmpFiles()).toEqual([]);
  });

  it('verifies Content-Digest: a wrong digest is 400 digest_mismatch and stores nothing', async () => {
    const good = createHash('sha256').update('payload').digest('base64');
    expect(
      (
        await put('/v1/sessions/dg/artifacts/ok', 'payload', {
          'Content-Digest': `sha-256=:${good}:`,
        })
      ).status,
    ).toBe(201);
    const wrong = createHash('sha256').update('other').digest('base64');
    const res = await put('/v1/sessions/dg/artifacts/bad', 'tampered', {
      'Content-Digest': `sha-256=:${wrong}:`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('digest_mismatch');
    expect((await s.fetch('/v1/sessions/dg/artifacts/bad')).status).toBe(404);
    expect(await blobFiles()).not.toContain(sha('tampered'));
    const malformed = await put('/v1/sessions/dg/artifacts/bad2', 'x', {
      'Content-Digest': 'sha-256=:nope:',
    });
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_digest',
    );
  });

  it('leaves nothing behind when the client aborts mid-upload', async () => {
    const url = new URL(`${s.url}/v1/sessions/abort/artifacts/big.bin`);
    await new Promise<void>((resolve) => {
      const req = http.request(url, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${s.token}`, 'Content-Length': 10_000_000 },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(1_000_000, 1), () => setTimeout(() => req.destroy(), 50));
      req.on('close', () => resolve());
    });
    for (let i = 0; i < 100 && tmpFiles().length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(tmpFiles()).toEqual([]);
    expect((await s.fetch('/v1/sessions/abort/artifacts/big.bin')).status).toBe(404);
    expect((await s.fetch('/v1/sessions/abort')).status).toBe(404);
  });

  it('pushes by reference to bytes already stored, and HEAD /v1/blobs tells what is stored', async () => {
    const body = 'shared bytes';
    expect((await s.fetch(`/v1/blobs/${sha(body)}`, { method: 'HEAD' })).status).toBe(404);
    const missing = await put(`/v1/sessions/ref/artifacts/a?sha256=${sha(body)}`, '');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'blob_not_found',
    );
    await put('/v1/sessions/ref/artifacts/orig', body);
    expect((await s.fetch(`/v1/blobs/${sha(body)}`, { method: 'HEAD' })).status).toBe(200);
    const byRef = await put(`/v1/sessions/ref/artifacts/copy?sha256=${sha(body)}`, '');
    expect(byRef.status).toBe(201);
    expect(await byRef.json()).toMatchObject({
      name: 'copy',
      size: body.length,
      deduplicated: true,
    });
    expect(await (await s.fetch('/v1/sessions/ref/artifacts/copy')).text()).toBe(body);
    expect(
      (await put(`/v1/sessions/ref/artifacts/x?sha256=${sha(body)}`, 'not empty')).status,
    ).toBe(400);
    expect((await s.fetch('/v1/blobs/XYZ', { method: 'HEAD' })).status).toBe(400);
  });

  it('refuses an artifact over --max-size with 413 and keeps nothing', async () => {
    const small = await startTestServer({ maxSize: 100 });
    try {
      const res = await small.fetch('/v1/sessions/m/artifacts/big', {
        method: 'PUT',
        body: Buffer.alloc(101),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'payload_too_large',
      );
      expect(readdirSync(join(small.dataDir, 'tmp'))).toEqual([]);
    } finally {
      await small.close();
    }
  });
});

describe('read', () => {
  const body = 'abcdefghijklmnopqrstuvwxyz';
  let id = '';
  beforeAll(async () => {
    id = ((await (await put('/v1/sessions/rd/artifacts/alpha.txt', body)).json()) as { id: string })
      .id;
  });

  it('serves bytes by name and by id with ETag, type, nosniff and a sandbox CSP', async () => {
    const res = await s.fetch('/v1/sessions/rd/artifacts/alpha.txt');
    expect(await res.text()).toBe(body);
    expect(res.headers.get('etag')).toBe(`"${sha(body)}"`);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
    expect(await (await s.fetch(`/v1/artifacts/${id}/content`)).text()).toBe(body);
    expect(await (await s.fetch(`/v1/artifacts/${id}`)).json()).toMatchObject({
      id,
      name: 'alpha.txt',
      size: body.length,
    });
  });

  it('answers If-None-Match with 304', async () => {
    const res = await s.fetch('/v1/sessions/rd/artifacts/alpha.txt', {
      headers: { 'If-None-Match': `"${sha(body)}"` },
    });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe('');
  });

  it.each([
    ['bytes=0-4', 206, 'abcde', 'bytes 0-4/26'],
    ['bytes=20-', 206, 'uvwxyz', 'bytes 20-25/26'],
    ['bytes=-3', 206, 'xyz', 'bytes 23-25/26'],
    ['bytes=24-100', 206, 'yz', 'bytes 24-25/26'],
    [
      'bytes=26-30',
      416,
      '{"error":{"code":"range_not_satisfiable","message":"the range is outside the artifact\'s 26 bytes"}}',
      'bytes */26',
    ],
    ['items=1-2', 200, body, null],
  ])('Range %s → %i', async (range, status, text, contentRange) => {
    const res = await s.fetch('/v1/sessions/rd/artifacts/alpha.txt', { headers: { Range: range } });
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(text);
    expect(res.headers.get('content-range')).toBe(contentRange);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await s.fetch('/v1/sessions/rd/artifacts/alpha.txt', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(body.length));
    expect(await res.text()).toBe('');
  });
});

describe('delete', () => {
  it('deletes in an open session and removes a blob only when nothing else references it', async () => {
    const a = (await (await put('/v1/sessions/del/artifacts/a', 'shared-del')).json()) as {
      id: string;
    };
    const b = (await (await put('/v1/sessions/del/artifacts/b', 'shared-del')).json()) as {
      id: string;
    };
    expect((await s.fetch(`/v1/artifacts/${a.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await blobFiles()).toContain(sha('shared-del'));
    expect((await s.fetch(`/v1/artifacts/${b.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await blobFiles()).not.toContain(sha('shared-del'));
    expect((await s.fetch(`/v1/artifacts/${b.id}`)).status).toBe(404);
    expect((await s.fetch(`/v1/artifacts/${b.id}`, { method: 'DELETE' })).status).toBe(404);
  });
});
