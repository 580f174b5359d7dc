import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { spawnServer, tempDir } from '../helpers/server.js';
import { testS3 } from '../helpers/engines/s3.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const digest = (b: Buffer) => `sha-256=:${createHash('sha256').update(b).digest('base64')}:`;

interface Acked {
  id: string;
  name: string;
  sha256: string;
}

describe('kill -9 of cairn serve --blobs s3 during concurrent large pushes', () => {
  it('leaves no acknowledged artifact without its bytes', async () => {
    const s3 = testS3();
    const dataDir = tempDir();
    const args = ['--blobs', s3.url];
    const server = await spawnServer(dataDir, args, s3.env);
    const acked: Acked[] = [];
    const stop = { now: false };
    // Multipart bodies (past the 8 MiB part) with and without a digest, and a repeated one.
    const shared = randomBytes(9 * MiB);
    const pusher = async (w: number) => {
      for (let i = 0; !stop.now; i++) {
        const body = i % 4 === 3 ? shared : randomBytes(i % 2 ? 10 * MiB : 2 * MiB);
        const name = `w${w}/f${i}.bin`;
        try {
          const res = await fetch(`${server.url}/v1/sessions/k9/artifacts/${name}`, {
            method: 'PUT',
            body,
            headers: {
              Authorization: `Bearer ${server.token}`,
              ...(i % 3 === 0 ? {} : { 'Content-Digest': digest(body) }),
            },
          });
          if (res.status === 201) {
            const rec = (await res.json()) as { id: string };
            acked.push({ id: rec.id, name, sha256: sha(body) });
          }
        } catch {
          // The server died mid-request: this push was never acknowledged.
        }
      }
    };
    const workers = [0, 1, 2, 3].map(pusher);
    while (acked.length < 6) await new Promise((r) => setTimeout(r, 5));
    await server.kill9();
    stop.now = true;
    await Promise.all(workers);

    const again = await spawnServer(dataDir, args, s3.env);
    try {
      const get = (path: string) =>
        fetch(`${again.url}${path}`, { headers: { Authorization: `Bearer ${again.token}` } });
      for (const a of acked) {
        const res = await get(`/v1/artifacts/${a.id}/content`);
        expect(res.status, a.name).toBe(200);
        expect(sha(Buffer.from(await res.arrayBuffer())), a.name).toBe(a.sha256);
      }
      // Nor any artifact in the catalog (acknowledged or not) whose bytes are missing.
      const list = (await (await get('/v1/artifacts?session=k9&limit=1000')).json()) as {
        items: { id: string; sha256: string }[];
      };
      expect(list.items.length).toBeGreaterThanOrEqual(acked.length);
      for (const item of list.items) {
        const res = await get(`/v1/artifacts/${item.id}/content`);
        expect(res.status, item.id).toBe(200);
        expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(item.sha256);
      }
    } finally {
      await again.stop();
    }
  });
});
