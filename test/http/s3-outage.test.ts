import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createBucket, startRadosGw, type RadosGw } from '../helpers/engines/s3-engine.js';
import { testS3 } from '../helpers/engines/s3.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const digest = (b: Buffer) => `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;
const body = (i: number, size = 1024 * 1024) => {
  const b = Buffer.alloc(size, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
};

// A radosgw of its own: this test stops it.
let rgw: RadosGw;
let s: TestServer;
beforeAll(async () => {
  rgw = await startRadosGw('memstore');
  await createBucket(rgw.endpoint, 'outage');
  const s3 = testS3(rgw.endpoint);
  Object.assign(process.env, s3.env);
  s = await startTestServer({ blobsUrl: s3.url.replace(`/${s3.bucket}/`, '/outage/') });
});
afterAll(async () => {
  await s?.close();
  rgw?.stop();
});

interface Outcome {
  name: string;
  bytes: Buffer;
  status: number;
  retryAfter: string | null;
  code?: string;
}

const push = async (name: string, bytes: Buffer): Promise<Outcome> => {
  const res = await s.fetch(`/v1/sessions/load/artifacts/${name}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'Content-Digest': digest(bytes) },
  });
  const json = (await res.json()) as { error?: { code: string } };
  return {
    name,
    bytes,
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    code: json.error?.code,
  };
};

describe('radosgw stopped mid-load', () => {
  it('answers 503 with Retry-After, keeps serving inline artifacts, and recovers', async () => {
    const small = Buffer.from('inline bytes stay in the catalog');
    expect((await push('small.txt', small)).status).toBe(201);
    const large = body(1_000_000);
    expect((await push('large.bin', large)).status).toBe(201);

    // Four clients push 1 MiB artifacts in a loop while radosgw is killed under them.
    const outcomes: Outcome[] = [];
    let running = true;
    let n = 0;
    const loaders = Array.from({ length: 4 }, async () => {
      while (running) {
        const i = n++;
        outcomes.push(await push(`load-${i}.bin`, body(i)));
      }
    });
    while (outcomes.filter((o) => o.status === 201).length < 4)
      await new Promise((r) => setTimeout(r, 5));
    rgw.killGateway();
    const failedAt = outcomes.length;
    while (outcomes.slice(failedAt).filter((o) => o.status !== 201).length < 8)
      await new Promise((r) => setTimeout(r, 5));

    // During the outage: inline artifacts are read and pushed; large ones are 503.
    const got = await s.fetch('/v1/sessions/load/artifacts/small.txt');
    expect(got.status).toBe(200);
    expect(await got.text()).toBe(small.toString());
    expect((await push('small-2.txt', Buffer.from('pushed during the outage'))).status).toBe(201);
    // The operator hears of it: the server logs the 503 with its cause (unlike a full budget).
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) =>
      logged.push(chunk.toString()) > 0) as typeof process.stderr.write;
    const read = await s
      .fetch('/v1/sessions/load/artifacts/large.bin')
      .finally(() => (process.stderr.write = write));
    expect(logged.join('')).toMatch(/"level":"error".*cannot be reached.*ECONNREFUSED/);
    expect(read.status).toBe(503);
    expect(read.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await read.json()) as { error: { code: string } }).error.code).toBe(
      'blob_store_unavailable',
    );

    running = false;
    await Promise.all(loaders);
    // Never a 500: every push either got in or was refused with a retryable 503.
    for (const o of outcomes) {
      expect([201, 503], `${o.name}: ${o.status} ${o.code}`).toContain(o.status);
      if (o.status === 503) {
        expect(o.code).toBe('blob_store_unavailable');
        expect(o.retryAfter).toMatch(/^\d+$/);
      }
    }

    await rgw.restartGateway();
    expect((await push('after.bin', body(-1 >>> 0))).status).toBe(201);
    const back = await s.fetch('/v1/sessions/load/artifacts/large.bin');
    expect(back.status).toBe(200);
    expect(sha(Buffer.from(await back.arrayBuffer()))).toBe(sha(large));
    // Every push acknowledged, before or during the outage, has its bytes.
    for (const o of outcomes.filter((x) => x.status === 201)) {
      const res = await s.fetch(`/v1/sessions/load/artifacts/${o.name}`);
      expect(res.status, o.name).toBe(200);
      expect(sha(Buffer.from(await res.arrayBuffer())), o.name).toBe(sha(o.bytes));
    }
    // A push refused with 503 left no artifact behind.
    for (const o of outcomes.filter((x) => x.status === 503))
      expect((await s.fetch(`/v1/sessions/load/artifacts/${o.name}`)).status, o.name).toBe(404);
  });
});

describe('radosgw that stops answering (SIGSTOP)', () => {
  it('a request stuck on it fails after the idle timeout with 503 blob_store_unavailable', async () => {
    const { S3BlobStore } = await import('../../src/blobs/s3/s3-blob-store.js');
    const { makeS3Client } = await import('../../src/blobs/s3/s3-client.js');
    const { parseS3Url } = await import('../../src/blobs/s3/s3-url.js');
    const location = parseS3Url(testS3(rgw.endpoint).url.replace('/cairn-tests/', '/outage/'));
    const store = await S3BlobStore.open({ location, client: makeS3Client(location, 300) });
    process.kill(rgw.rgwPid, 'SIGSTOP');
    try {
      const err = await store.stat(sha(Buffer.from('x'))).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('blob_store_unavailable');
      expect((err as { status?: number }).status).toBe(503);
    } finally {
      process.kill(rgw.rgwPid, 'SIGCONT');
      await store.close();
    }
  });
});
