import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The sweeper (background, every 5 ms, and on demand in a loop) races pushes of the very bytes
// whose last reference keeps expiring. No acknowledged push may end up without its bytes.
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ sweepIntervalMs: 5, sweepBatch: 3, durability: 'process' });
});
afterAll(async () => s.close());

const sha = (body: string) => createHash('sha256').update(body).digest('hex');
const blobPath = (h: string) => join(s.dataDir, 'blobs', h.slice(0, 2), h.slice(2, 4), h);

describe('sweeper racing concurrent pushes of the same bytes', () => {
  it('never loses a blob that an acknowledged artifact references', async () => {
    const bodies = ['race-a', 'race-b', 'race-c'];
    let sweeping = true;
    let sweeps = 0;
    let freed = 0;
    const sweeper = (async () => {
      while (sweeping) {
        freed += (await s.app.retention.sweep()).blobs_freed;
        sweeps++;
        // A sweep with nothing to do settles in microtasks; let the server breathe.
        await new Promise((r) => setImmediate(r));
      }
    })();
    const kept: { id: string; sha256: string }[] = [];
    let byRefMissing = 0;
    for (let round = 0; round < 40; round++) {
      const body = bodies[round % bodies.length];
      const pushes: Promise<void>[] = [];
      for (let i = 0; i < 8; i++) {
        // Expires almost at once, so the blob keeps losing its last reference.
        pushes.push(
          s
            .fetch(`/v1/sessions/race/artifacts/tmp-${round}-${i}?ttl=1ms`, {
              method: 'PUT',
              body,
            })
            .then(async (r) => {
              expect(r.status).toBe(201);
              await r.body?.cancel();
            }),
        );
      }
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
    // The race really happened: blobs were collected while pushes of them kept arriving.
    expect(sweeps).toBeGreaterThan(0);
    expect(freed).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThanOrEqual(80);
    expect(byRefMissing).toBeLessThanOrEqual(40);
    for (const k of kept) {
      const res = await s.fetch(`/v1/artifacts/${k.id}/content`);
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(k.sha256);
    }
    for (const body of bodies) {
      const live = kept.filter((k) => k.sha256 === sha(body)).length;
      expect(await s.app.catalog.blobRefs(sha(body))).toBe(live);
      expect(existsSync(blobPath(sha(body)))).toBe(true);
    }
    // Everything that expired is gone, and what is left is exactly what was kept.
    expect(await s.app.retention.plan()).toMatchObject({ artifacts_expired: 0, bytes_freed: 0 });
  }, 120_000);
});
