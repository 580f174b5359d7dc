import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// `cairn backup` interrupted (Ctrl-C, `curl … | head`) is the client's choice, not a server
// fault: the server cleans up and logs nothing.

let server: ServerProcess;
let stderr = '';
beforeAll(async () => {
  server = await spawnServer(join(tempDir(), 'data'));
  server.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const auth = { Authorization: `Bearer ${server.token}` };
  for (let i = 0; i < 4; i++) {
    const body = Buffer.alloc(4 << 20, i + 1);
    const res = await fetch(`${server.url}/v1/sessions/big/artifacts/b${i}.bin`, {
      method: 'PUT',
      body,
      headers: auth,
    });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => server.stop());

const snapshots = () =>
  readdirSync(join(server.dataDir, 'tmp')).filter((n) => n.startsWith('backup-'));

describe('GET /v1/backup aborted by the client', () => {
  it('logs no error, keeps serving and leaves no snapshot behind', async () => {
    // Both formats, cut at the first bytes and at points inside the blobs (every 1.5 MB).
    for (let round = 0; round < 16; round++) {
      const format = round % 2 ? 'sqlite' : 'logical';
      const cutAt = Math.floor(round / 2) * 1_500_000;
      await new Promise<void>((resolve, reject) => {
        const req = http.get(
          `${server.url}/v1/backup?format=${format}`,
          { headers: { Authorization: `Bearer ${server.token}` } },
          (res) => {
            expect(res.statusCode).toBe(200);
            let got = 0;
            const early = () => reject(new Error(`${format}: the stream ended at ${got} B`));
            res.once('end', early).once('error', early);
            res.on('data', (d: Buffer) => {
              if ((got += d.length) <= cutAt || req.destroyed) return;
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      });
      // The handler removes its snapshot last; then one more round trip lets it finish.
      while (snapshots().length > 0) await new Promise((r) => setTimeout(r, 20));
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    }
    // No aborted backup is still holding blob deletions: a deleted artifact's bytes go at once.
    const auth = { Authorization: `Bearer ${server.token}` };
    const gone = await fetch(`${server.url}/v1/sessions/drop/artifacts/x.bin`, {
      method: 'PUT',
      body: Buffer.alloc(100_000, 9),
      headers: auth,
    });
    const rec = (await gone.json()) as { id: string; sha256: string };
    await fetch(`${server.url}/v1/artifacts/${rec.id}`, { method: 'DELETE', headers: auth });
    const h = rec.sha256;
    expect(existsSync(join(server.dataDir, 'blobs', h.slice(0, 2), h.slice(2, 4), h))).toBe(false);
    expect(stderr).toBe('');
  });
});
