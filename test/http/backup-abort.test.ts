import { readdirSync } from 'node:fs';
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
  it('logs no error and leaves no snapshot behind', async () => {
    for (let round = 0; round < 3; round++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(
          `${server.url}/v1/backup`,
          { headers: { Authorization: `Bearer ${server.token}` } },
          (res) => {
            expect(res.statusCode).toBe(200);
            res.once('data', () => {
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
    expect(stderr).toBe('');
  });
});
