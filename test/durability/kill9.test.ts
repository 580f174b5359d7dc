import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServer, tempDir } from '../helpers/server.js';

interface Acked {
  id: string;
  session: string;
  name: string;
  sha256: string;
  body: Buffer;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Pushes until stopped; records only what the server acknowledged with 201. */
async function pusher(
  url: string,
  token: string,
  worker: number,
  acked: Acked[],
  stop: { now: boolean },
): Promise<void> {
  for (let i = 0; !stop.now; i++) {
    // Mix sizes, and repeat some bodies so dedupe is exercised across the crash.
    const body = i % 5 === 0 ? Buffer.from(`shared-${i % 3}`) : randomBytes(i % 2 ? 700 : 70_000);
    const session = `crash_${worker % 3}`;
    const name = `w${worker}/f${i}.bin`;
    try {
      const res = await fetch(`${url}/v1/sessions/${session}/artifacts/${name}`, {
        method: 'PUT',
        body,
        headers: { Authorization: `Bearer ${token}` },
      });
      if (res.status === 201) {
        const rec = (await res.json()) as { id: string };
        acked.push({ id: rec.id, session, name, sha256: sha(body), body });
      }
    } catch {
      // The server died mid-request: this push was not acknowledged.
    }
  }
}

describe('durability: kill -9 during concurrent pushes', () => {
  it('loses no acknowledged artifact, shows nothing half-written, leaves no temp files (3 cycles)', async () => {
    const dataDir = join(tempDir(), 'data');
    const acked: Acked[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const server = await spawnServer(dataDir);
      const stop = { now: false };
      const before = acked.length;
      const workers = Array.from({ length: 8 }, (_, w) =>
        pusher(server.url, server.token, w + cycle * 8, acked, stop),
      );
      while (acked.length < before + 150) await new Promise((r) => setTimeout(r, 10));
      await server.kill9();
      stop.now = true;
      await Promise.all(workers);
    }

    const server = await spawnServer(dataDir);
    try {
      expect(readdirSync(join(dataDir, 'tmp'))).toEqual([]);
      for (const a of acked) {
        const res = await fetch(`${server.url}/v1/artifacts/${a.id}/content`, {
          headers: { Authorization: `Bearer ${server.token}` },
        });
        expect(res.status, `acknowledged ${a.session}/${a.name} must survive`).toBe(200);
        expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(a.sha256);
      }
      // Whatever is visible (acknowledged or not) is whole: its bytes hash to its record.
      let cursor = '';
      let visible = 0;
      do {
        const page = (await (
          await fetch(`${server.url}/v1/artifacts?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, {
            headers: { Authorization: `Bearer ${server.token}` },
          })
        ).json()) as {
          items: { id: string; sha256: string; size: number }[];
          next_cursor: string | null;
        };
        for (const rec of page.items) {
          const body = Buffer.from(
            await (
              await fetch(`${server.url}/v1/artifacts/${rec.id}/content`, {
                headers: { Authorization: `Bearer ${server.token}` },
              })
            ).arrayBuffer(),
          );
          expect(body.length).toBe(rec.size);
          expect(sha(body)).toBe(rec.sha256);
          visible++;
        }
        cursor = page.next_cursor ?? '';
      } while (cursor);
      expect(visible).toBeGreaterThanOrEqual(acked.length);
    } finally {
      await server.stop();
    }
  });
});
