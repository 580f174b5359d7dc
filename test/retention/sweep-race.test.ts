import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

// The sweeper (background, every 5 ms, and on demand in a loop) races pushes of the very bytes
// whose last reference keeps expiring. No acknowledged push may end up without its bytes.
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ sweepIntervalMs: 5, sweepBatch: 3, durability: 'process' });
});
afterAll(async () => s.close());

const sha = (body: string) => createHash('sha256').update(body).digest('hex');
/** Bodies larger than any inline-blob threshold, so they stream to files (the slow path). */
const big = (tag: string) => `${tag}:`.padEnd(100_000, '.');

describe('sweeper racing concurrent pushes of the same bytes', () => {
  it('never loses a blob that an acknowledged artifact references', async () => {
    const bodies: string[] = [];
    let sweeping = true;
    let sweeps = 0;
    const sweeper = (async () => {
      while (sweeping) {
        await s.app.retention.sweep();
        sweeps++;
        // A sweep with nothing to do settles in microtasks; let the server breathe.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const kept: { id: string; sha256: string }[] = [];
    let byRefMissing = 0;
    const pushTmp = (round: number, i: number, body: string) =>
      s
        .fetch(`/v1/sessions/race/artifacts/tmp-${round}-${i}?ttl=1ms`, { method: 'PUT', body })
        .then(async (r) => {
          expect(r.status).toBe(201);
          await r.body?.cancel();
        });
    for (let round = 0; round < 40; round++) {
      // A fresh body per round: its only references expire almost at once (ttl=1ms), so the
      // sweeper goes for its blob exactly while the pushes below bring the same bytes again.
      const body = big(`race-${round}`);
      bodies.push(body);
      await Promise.all([0, 1, 2, 3].map((i) => pushTmp(round, i, body)));
      const pushes: Promise<void>[] = [4, 5, 6].map((i) => pushTmp(round, i, body));
      for (let i = 0; i < 2; i++) {
        pushes.push(
          s
            .fetch(`/v1/sessions/race/artifacts/keep-${round}-${i}`, { method: 'PUT', body })
            .then(async (r) => {
              expect(r.status).toBe(201);
              kept.push((await r.json()) as { id: string; sha256: string });
            }),
        );
      }
      // Push by reference (what clients do after HEAD /v1/blobs): either the bytes are there
      // under the lock and it succeeds, or it is a clean 404 — never a 201 without bytes.
      pushes.push(
        s
          .fetch(`/v1/sessions/race/artifacts/ref-${round}?sha256=${sha(body)}`, {
            method: 'PUT',
          })
          .then(async (r) => {
            expect([201, 404]).toContain(r.status);
            if (r.status === 201) kept.push((await r.json()) as { id: string; sha256: string });
            else {
              byRefMissing++;
              await r.body?.cancel();
            }
          }),
      );
      await Promise.all(pushes);
    }
    sweeping = false;
    await sweeper;
    await s.app.retention.sweep();
    expect(sweeps).toBeGreaterThan(0);
    // Every push by reference was answered 201 (bytes there) or 404 (collected), nothing else.
    expect(kept.length + byRefMissing).toBe(40 * 3);
    for (const k of kept) {
      const res = await s.fetch(`/v1/artifacts/${k.id}/content`);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(k.sha256);
    }
    for (const body of bodies) {
      const live = kept.filter((k) => k.sha256 === sha(body)).length;
      expect(await s.app.catalog.blobRefs(sha(body))).toBe(live);
      expect(await s.app.blobs.has(sha(body))).toBe(true);
    }
    // Everything that expired is gone, and what is left is exactly what was kept.
    expect(await s.app.retention.plan()).toMatchObject({ artifacts_expired: 0, bytes_freed: 0 });
  }, 120_000);

  it('a blob collected while pushes of it are staged is written again by their commit', async () => {
    // In-process, so the interleaving is the interesting one: the sweep commits and deletes the
    // blob while the pushes are still streaming their copy to a temp file.
    const dir = tempDir();
    const app = await createApp({ dataDir: dir, durability: 'process' });
    const push = (name: string, body: string, ttlMs?: number) =>
      app.artifacts.push({ session: 'inproc', name, ttlMs }, Readable.from([Buffer.from(body)]));
    try {
      let collected = 0;
      const kept: { id: string; sha256: string }[] = [];
      for (let round = 0; round < 60; round++) {
        const body = big(`inproc-${round}`);
        await push(`tmp-${round}`, body, 1);
        await new Promise((r) => setTimeout(r, 2));
        const [swept, a, b] = await Promise.all([
          app.retention.sweep(),
          push(`keep-${round}-a`, body),
          push(`keep-${round}-b`, body),
        ]);
        collected += swept.blobs_freed;
        kept.push(a, b);
      }
      // The race really happened, many times over.
      expect(collected).toBeGreaterThan(0);
      for (const k of kept) {
        const rec = await app.artifacts.get(k.id);
        const h = createHash('sha256');
        for await (const c of await app.blobs.get(rec.sha256)) h.update(c as Buffer);
        expect(h.digest('hex')).toBe(k.sha256);
        expect(await app.catalog.blobRefs(k.sha256)).toBe(2);
      }
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
