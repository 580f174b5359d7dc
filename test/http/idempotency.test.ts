import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CairnClient } from '../../src/client/cairn-client.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

// Buffers, not strings: fetch would label a string body text/plain.
const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  s.fetch(path, { method: 'PUT', body: Buffer.from(body), headers });

describe('Idempotency-Key on pushes', () => {
  it('honours Idempotency-Key: a retry returns the first answer and stores nothing new', async () => {
    const h = { 'Idempotency-Key': 'retry-1' };
    const [a, b] = await Promise.all([
      put('/v1/sessions/idem/artifacts/f', 'first', h),
      put('/v1/sessions/idem/artifacts/f', 'first', h),
    ]);
    const c = await put('/v1/sessions/idem/artifacts/f', 'first', h);
    const ids = (await Promise.all([a, b, c].map((r) => r.json()))).map(
      (r) => (r as { id: string }).id,
    );
    expect(new Set(ids).size).toBe(1);
    const session = (await (await s.fetch('/v1/sessions/idem')).json()) as {
      artifact_count: number;
    };
    expect(session.artifact_count).toBe(1);
  });

  it('refuses an Idempotency-Key reused for another push (422) instead of losing it', async () => {
    const h = { 'Idempotency-Key': 'reuse-1' };
    expect((await put('/v1/sessions/idem2/artifacts/x.txt', 'one', h)).status).toBe(201);
    for (const [path, body] of [
      ['/v1/sessions/idem2/artifacts/x.txt', 'two'],
      ['/v1/sessions/idem2/artifacts/y.txt', 'one'],
      ['/v1/sessions/idem3/artifacts/x.txt', 'one'],
    ]) {
      const res = await put(path, body, h);
      expect(res.status, `${path} ${body}`).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'idempotency_key_reused',
      );
    }
    const session = (await (await s.fetch('/v1/sessions/idem2')).json()) as {
      artifact_count: number;
    };
    expect(session.artifact_count).toBe(1);
    expect((await s.fetch('/v1/sessions/idem3')).status).toBe(404);
    // Keys count whole: two long keys that differ only at the end are two keys.
    const long = 'k'.repeat(300);
    expect(
      (await put('/v1/sessions/idem2/artifacts/l.txt', 'l', { 'Idempotency-Key': `${long}A` }))
        .status,
    ).toBe(201);
    expect(
      (await put('/v1/sessions/idem2/artifacts/l.txt', 'l', { 'Idempotency-Key': `${long}B` }))
        .status,
    ).toBe(201);
    const versions = (await (await s.fetch('/v1/artifacts?session=idem2&name=l.txt')).json()) as {
      items: unknown[];
    };
    expect(versions.items.length).toBe(2);
  });

  it('replays a retried pushFile, which sends the bytes by reference the second time', async () => {
    const file = join(tempDir(), 'retry.bin');
    writeFileSync(file, Buffer.alloc(100_000, 7));
    const client = new CairnClient({ url: s.url, token: s.token });
    const opts = { idempotencyKey: 'file-retry-1', meta: { run: 'r1' } };
    const first = await client.pushFile('idem4', 'big.bin', file, opts);
    const again = await client.pushFile('idem4', 'big.bin', file, opts);
    expect(again).toEqual(first);
    expect(first.version).toBe(1);
  });

  it('still replays an answer stored under the key form of the previous release', async () => {
    const first = (await (await put('/v1/sessions/idem5/artifacts/u.txt', 'u')).json()) as {
      id: string;
      version: number;
    };
    const tokens = (await (await s.fetch('/v1/tokens')).json()) as {
      items: { id: string; scope: string }[];
    };
    const admin = tokens.items.find((t) => t.scope === 'admin')?.id;
    // As a server before migration 5 stored it: the key's first 200 characters, no request.
    const key = `${admin}:upgrade-1`;
    const claim = {
      holder: 'h',
      request: '',
      now: Date.now(),
      leaseUntil: Date.now() + 1,
      since: 0,
    };
    expect((await s.app.catalog.idempotency.claim(key, claim)).state).toBe('claimed');
    const answer = { status: 201, body: JSON.stringify(first), request: null };
    expect(await s.app.catalog.idempotency.finish(key, 'h', answer, Date.now())).toBe(true);
    const res = await put('/v1/sessions/idem5/artifacts/u.txt', 'u', {
      'Idempotency-Key': 'upgrade-1',
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { id: string }).id).toBe(first.id);
    const session = (await (await s.fetch('/v1/sessions/idem5')).json()) as {
      artifact_count: number;
    };
    expect(session.artifact_count).toBe(1);
    // Such a row knows no request: the artifact and the bytes still have to be the same.
    for (const path of [
      '/v1/sessions/idem5/artifacts/other.txt',
      '/v1/sessions/idem6/artifacts/u.txt',
    ]) {
      const other = await put(path, 'u', { 'Idempotency-Key': 'upgrade-1' });
      expect(other.status, path).toBe(422);
      await other.body?.cancel();
    }
  });

  it('answers a push the same with or without a key, and the Content-Type counts', async () => {
    const h = { 'Idempotency-Key': 'type-1' };
    expect(
      (await put('/v1/sessions/idem7/artifacts/t', 't', { ...h, 'Content-Type': 'text/plain' }))
        .status,
    ).toBe(201);
    const json = await put('/v1/sessions/idem7/artifacts/t', 't', {
      ...h,
      'Content-Type': 'application/json',
    });
    expect(json.status).toBe(422);
    await json.body?.cancel();
    const upper = 'A'.repeat(64);
    const variants: Record<string, string>[] = [{}, { 'Idempotency-Key': 'ref-1' }];
    for (const headers of variants) {
      const res = await s.fetch(`/v1/sessions/idem7/artifacts/r?sha256=${upper}`, {
        method: 'PUT',
        headers,
      });
      expect(res.status).toBe(400);
      await res.body?.cancel();
    }
  });
});
