import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/blobs/s3/s3-blob-store.js';
import { makeS3Client } from '../../src/blobs/s3/s3-client.js';
import { parseS3Url } from '../../src/blobs/s3/s3-url.js';
import { markStaleMsFor, MARK_STALE_MS } from '../../src/core/blob-leases.js';
import { CairnError } from '../../src/lib/errors.js';
import { freePort } from '../helpers/engines/s3-engine.js';
import { s3Url, testS3, type TestS3 } from '../helpers/engines/s3.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Bytes that differ at every offset (so a misplaced part or range shows). */
function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed + (i >> 16)) & 0xff;
  return b;
}

/** A store with 5 MiB parts (S3's least) under a fresh prefix; counts the SDK commands sent. */
async function make(o: Partial<S3BlobStoreOptions> = {}, s3: TestS3 = testS3()) {
  Object.assign(process.env, s3.env);
  const location = parseS3Url(s3.url);
  const client = makeS3Client(location);
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  const store = await S3BlobStore.open({ location, client, partSize: 5 * MiB, lanes: 2, ...o });
  cleanups.push(() => store.close());
  return { s3, store, sent };
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `bytes` in 64 KiB chunks, like a socket. */
const chunked = (bytes: Buffer) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
    })(),
  );

describe('S3BlobStore', () => {
  it('streams a body of several parts without a digest: temp key, then copied into its v1 key', async () => {
    const { s3, store, sent } = await make();
    const body = pattern(12 * MiB + 3);
    const staged = await store.stage(chunked(body));
    expect(staged.sha256).toBe(sha(body));
    expect(sent.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(await store.has(sha(body))).toBe(false);
    expect(await staged.commit()).toBe(true);
    expect(await s3.keys()).toEqual([
      `${s3.prefix}/v1/blobs/${sha(body).slice(0, 2)}/${sha(body)}`,
    ]);
    expect(await s3.multipartUploads()).toEqual([]);
    expect((await readAll(await store.get(sha(body)))).equals(body)).toBe(true);
    const range = { start: 5 * MiB - 10, end: 10 * MiB + 10 };
    const part = await readAll(await store.get(sha(body), range));
    expect(part.equals(body.subarray(range.start, range.end + 1))).toBe(true);
  });

  it('with an announced digest uploads to the final key, invisible until commit', async () => {
    const { s3, store, sent } = await make();
    const body = pattern(11 * MiB, 2);
    const staged = await store.stage(chunked(body), { expectedSha256: sha(body) });
    expect(await s3.keys()).toEqual([]);
    expect(await s3.multipartUploads()).toEqual([
      `${s3.prefix}/v1/blobs/${sha(body).slice(0, 2)}/${sha(body)}`,
    ]);
    expect(await staged.commit()).toBe(true);
    expect(sent).not.toContain('CopyObjectCommand');
    expect(await s3.multipartUploads()).toEqual([]);
    expect(await store.stat(sha(body))).toEqual({ size: body.length });
  });

  it('a wrong digest after several parts leaves no key and no multipart upload', async () => {
    const { s3, store } = await make();
    const body = pattern(11 * MiB, 3);
    const err = await store
      .stage(chunked(body), { expectedSha256: sha(Buffer.from('other')) })
      .catch((e: unknown) => e);
    expect((err as CairnError).code).toBe('digest_mismatch');
    expect(await s3.keys()).toEqual([]);
    expect(await s3.multipartUploads()).toEqual([]);
  });

  it('a body aborted after a part was sent leaves no multipart upload', async () => {
    const { s3, store, sent } = await make();
    let n = 0;
    const source = new Readable({
      read() {
        if (n++ < 120) this.push(pattern(64 * 1024, n));
        else this.destroy(new Error('client went away'));
      },
    });
    await expect(store.stage(source)).rejects.toThrow('client went away');
    expect(sent).toContain('UploadPartCommand');
    expect(sent).toContain('AbortMultipartUploadCommand');
    expect(await s3.multipartUploads()).toEqual([]);
    expect(await s3.keys()).toEqual([]);
  });

  it('too large after a part was sent: payload_too_large, no multipart upload', async () => {
    const { s3, store } = await make();
    const err = await store
      .stage(chunked(pattern(9 * MiB)), { maxSize: 8 * MiB })
      .catch((e: unknown) => e);
    expect((err as CairnError).code).toBe('payload_too_large');
    expect(await s3.multipartUploads()).toEqual([]);
  });

  it('dedupe: bytes already stored with an announced digest upload nothing', async () => {
    const { store, sent } = await make();
    const body = pattern(7 * MiB, 4);
    await (await store.stage(chunked(body))).commit();
    sent.length = 0;
    const again = await store.stage(chunked(body), { expectedSha256: sha(body) });
    expect(await again.commit()).toBe(false);
    const uploads = ['PutObjectCommand', 'UploadPartCommand', 'CreateMultipartUploadCommand'];
    expect(sent.filter((c) => uploads.includes(c))).toEqual([]);
    // The digest is still checked against the bytes sent.
    const lie = await store
      .stage(chunked(pattern(7 * MiB, 5)), { expectedSha256: sha(body) })
      .catch((e: unknown) => e);
    expect((lie as CairnError).code).toBe('digest_mismatch');
  });

  it('discard of a staged multipart body aborts its upload', async () => {
    const { s3, store } = await make();
    const staged = await store.stage(chunked(pattern(6 * MiB, 6)));
    expect(await s3.multipartUploads()).toHaveLength(1);
    await staged.discard();
    expect(await s3.multipartUploads()).toEqual([]);
    expect(await s3.keys()).toEqual([]);
  });

  it('the sweep removes abandoned uploads and temp keys, and leaves recent ones', async () => {
    const { s3, store } = await make({ abandonedAfterMs: 3600_000 });
    const Bucket = s3.bucket;
    await s3.client.send(
      new CreateMultipartUploadCommand({ Bucket, Key: `${s3.prefix}/v1/blobs/ab/abc` }),
    );
    await s3.client.send(
      new PutObjectCommand({ Bucket, Key: `${s3.prefix}/v1/tmp/1-dead`, Body: 'x' }),
    );
    expect(await store.sweepAbandoned(Date.now())).toBe(0);
    expect(await s3.multipartUploads()).toHaveLength(1);
    expect(await store.sweepAbandoned(Date.now() + 3600_000 + 5000)).toBe(2);
    expect(await s3.multipartUploads()).toEqual([]);
    expect(await s3.keys()).toEqual([]);
  });

  it('marks wait out the window in which a signed DELETE may still land', async () => {
    const { store } = await make();
    expect(markStaleMsFor(store)).toBeGreaterThanOrEqual(15 * 60_000 + MARK_STALE_MS);
  });

  it('S3 unreachable: every operation fails with 503 blob_store_unavailable', async () => {
    const s3 = testS3(`http://127.0.0.1:${await freePort()}`);
    Object.assign(process.env, s3.env);
    const store = new S3BlobStore({ location: parseS3Url(s3.url), partSize: 5 * MiB });
    cleanups.push(() => store.close());
    const ops: (() => Promise<unknown>)[] = [
      () => store.stage(chunked(pattern(6 * MiB))),
      () => store.get(sha(Buffer.from('x'))),
      () => store.has(sha(Buffer.from('x'))),
      () => store.delete(sha(Buffer.from('x'))),
    ];
    for (const op of ops) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CairnError);
      expect((err as CairnError).code).toBe('blob_store_unavailable');
      expect((err as CairnError).status).toBe(503);
    }
  });

  it('open says which is wrong: credentials refused, no bucket, unreachable', async () => {
    const s3 = testS3();
    const open = (url: string) =>
      S3BlobStore.open({ location: parseS3Url(url) }).then(
        () => ({ code: 'opened', message: '' }),
        (e: unknown) => e as CairnError,
      );
    Object.assign(process.env, { ...s3.env, AWS_SECRET_ACCESS_KEY: 'wrong-secret' });
    expect((await open(s3.url)).code).toBe('s3_credentials_refused');
    Object.assign(process.env, s3.env);
    expect((await open(s3Url(s3.endpoint, 'no-such-bucket', 'p'))).code).toBe('s3_no_bucket');
    const down = await open(s3Url(`http://127.0.0.1:${await freePort()}`, s3.bucket, 'p'));
    expect(down.code).toBe('blob_store_unavailable');
    expect(down.message).toMatch(/cannot reach S3/);
  });

  it('refuses malformed URLs, saying what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['s3://', /bucket/],
      ['s3://AB/x', /not a bucket name/],
      ['s3://bucket/x?endpoint=ftp://h', /not an http/],
      ['s3://bucket/x?region=a&color=red', /unknown parameter 'color'/],
      ['s3://bucket?force_path_style=yes', /true or false/],
    ];
    for (const [url, why] of cases) expect(() => parseS3Url(url)).toThrow(why);
    expect(parseS3Url('s3://my.bucket/a/b/?region=eu-west-1')).toEqual({
      bucket: 'my.bucket',
      prefix: 'a/b',
      endpoint: undefined,
      region: 'eu-west-1',
      forcePathStyle: false,
    });
  });
});

describe('S3BlobStore concurrent commits of the same bytes', () => {
  for (const [what, size, digest] of [
    ['one PUT', 1 * MiB, false],
    ['multipart, final key', 6 * MiB, true],
  ] as const) {
    it(`exactly one reports them new (${what})`, async () => {
      const { s3, store } = await make();
      const body = pattern(size, 11);
      const opts = digest ? { expectedSha256: sha(body) } : {};
      const staged = await Promise.all(
        Array.from({ length: 6 }, () => store.stage(chunked(body), opts)),
      );
      const created = await Promise.all(staged.map((s) => s.commit()));
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await s3.multipartUploads()).toEqual([]);
      expect((await readAll(await store.get(sha(body)))).equals(body)).toBe(true);
    });
  }
});
