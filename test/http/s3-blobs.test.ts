import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testS3, type TestS3 } from '../helpers/engines/s3.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const digest = (b: Buffer) => `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed + (i >> 16)) & 0xff;
  return b;
}

let s3: TestS3;
let s: TestServer;
beforeAll(async () => {
  s3 = testS3();
  Object.assign(process.env, s3.env);
  s = await startTestServer({ blobsUrl: s3.url });
});
afterAll(async () => s?.close());

const put = (path: string, body: Buffer, headers: Record<string, string> = {}) =>
  s.fetch(path, { method: 'PUT', body, headers });
const blobKey = (b: Buffer) => `${s3.prefix}/v1/blobs/${sha(b).slice(0, 2)}/${sha(b)}`;

describe('cairn serve --blobs s3://…', () => {
  it('pushes a multipart body with a digest and serves it: ETag, 304, 206, 416', async () => {
    const body = pattern(19 * MiB + 5, 1);
    const res = await put('/v1/sessions/s3a/artifacts/big.bin', body, {
      'Content-Digest': digest(body),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ sha256: sha(body), size: body.length });
    expect(await s3.keys()).toContain(blobKey(body));
    expect(await s3.multipartUploads()).toEqual([]);

    const got = await s.fetch('/v1/sessions/s3a/artifacts/big.bin');
    expect(got.status).toBe(200);
    const etag = got.headers.get('etag') ?? '';
    expect(etag).toContain(sha(body));
    expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
    const again = await s.fetch('/v1/sessions/s3a/artifacts/big.bin', {
      headers: { 'If-None-Match': etag },
    });
    expect(again.status).toBe(304);
    const start = 8 * MiB - 3;
    const end = 16 * MiB + 2;
    const part = await s.fetch('/v1/sessions/s3a/artifacts/big.bin', {
      headers: { Range: `bytes=${start}-${end}` },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes ${start}-${end}/${body.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(start, end + 1))).toBe(true);
    const past = await s.fetch('/v1/sessions/s3a/artifacts/big.bin', {
      headers: { Range: `bytes=${body.length}-` },
    });
    expect(past.status).toBe(416);
  });

  it('a push without a digest goes through a temp key into the same layout', async () => {
    const body = pattern(9 * MiB, 2);
    const res = await put('/v1/sessions/s3b/artifacts/nodigest.bin', body);
    expect(res.status).toBe(201);
    const keys = await s3.keys();
    expect(keys).toContain(blobKey(body));
    expect(keys.filter((k) => k.includes('/tmp/'))).toEqual([]);
    const got = await s.fetch('/v1/sessions/s3b/artifacts/nodigest.bin');
    expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
  });

  it('dedupes: the same bytes again add no object', async () => {
    const body = pattern(3 * MiB, 3);
    expect((await put('/v1/sessions/s3c/artifacts/a.bin', body)).status).toBe(201);
    const before = await s3.keys();
    const res = await put('/v1/sessions/s3c/artifacts/b.bin', body, {
      'Content-Digest': digest(body),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { deduplicated: boolean }).deduplicated).toBe(true);
    expect(await s3.keys()).toEqual(before);
  });

  it('a wrong digest is 400 digest_mismatch: no object, no multipart upload', async () => {
    const body = pattern(12 * MiB, 4);
    const before = await s3.keys();
    const res = await put('/v1/sessions/s3d/artifacts/bad.bin', body, {
      'Content-Digest': digest(Buffer.from('something else')),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('digest_mismatch');
    expect(await s3.keys()).toEqual(before);
    expect(await s3.multipartUploads()).toEqual([]);
    expect((await s.fetch('/v1/sessions/s3d/artifacts/bad.bin')).status).toBe(404);
  });

  it('an upload cut off after 20 MiB of 40 leaves no multipart upload and no artifact', async () => {
    const before = await s3.keys();
    const url = new URL(`${s.url}/v1/sessions/s3e/artifacts/cut.bin`);
    const req = http.request(url, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${s.token}`, 'Content-Length': String(40 * MiB) },
    });
    req.on('error', () => undefined);
    const chunk = pattern(MiB, 5);
    for (let i = 0; i < 20; i++)
      await new Promise<void>((res) => (req.write(chunk) ? res() : req.once('drain', res)));
    // Parts were sent: the upload exists until the server notices the cut.
    for (let i = 0; i < 200 && (await s3.multipartUploads()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await s3.multipartUploads()).toHaveLength(1);
    req.destroy();
    for (let i = 0; i < 500 && (await s3.multipartUploads()).length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(await s3.multipartUploads()).toEqual([]);
    expect(await s3.keys()).toEqual(before);
    expect((await s.fetch('/v1/sessions/s3e/artifacts/cut.bin')).status).toBe(404);
  });

  it('fsck rehashes the objects and reports a corrupt and a missing one', async () => {
    const a = pattern(200 * 1024, 6);
    const b = pattern(300 * 1024, 7);
    expect((await put('/v1/sessions/s3f/artifacts/a.bin', a)).status).toBe(201);
    expect((await put('/v1/sessions/s3f/artifacts/b.bin', b)).status).toBe(201);
    const { PutObjectCommand, DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: blobKey(a), Body: pattern(200 * 1024, 9) }),
    );
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: blobKey(b) }));
    const report = await s.app.fsck.run({ repair: false });
    const found = report.problems.map((p) => [p.kind, p.subject]);
    expect(found).toContainEqual(['corrupt', sha(a)]);
    expect(found).toContainEqual(['missing', sha(b)]);
    expect(report.blobs_checked).toBeGreaterThan(0);
  });
});

describe('the sweeper with --blobs s3', () => {
  it("aborts multipart uploads abandoned over a day ago (by the server's clock), not newer ones", async () => {
    const { CreateMultipartUploadCommand } = await import('@aws-sdk/client-s3');
    const own = testS3();
    const Bucket = own.bucket;
    const open = (key: string) =>
      own.client.send(new CreateMultipartUploadCommand({ Bucket, Key: `${own.prefix}/v1/${key}` }));
    let skew = 0;
    const server = await startTestServer(
      { blobsUrl: own.url, sweepIntervalMs: 20 },
      { clock: () => Date.now() + skew },
    );
    try {
      await open('blobs/ab/left-by-a-dead-node');
      const rounds = server.app.sweeper.stats.runs;
      while (server.app.sweeper.stats.runs < rounds + 2)
        await new Promise((r) => setTimeout(r, 10));
      expect(await own.multipartUploads()).toHaveLength(1);
      skew = 25 * 3600_000;
      const later = server.app.sweeper.stats.runs;
      while (server.app.sweeper.stats.runs < later + 2) await new Promise((r) => setTimeout(r, 10));
      expect(await own.multipartUploads()).toEqual([]);
      expect(server.app.sweeper.stats.failures).toBe(0);
    } finally {
      await server.close();
    }
  });
});
