import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { spawnServer, startTestServer, tempDir } from '../helpers/server.js';

/** A socket to `base` that sends what it is given and never reads a byte of the answers. */
async function deafSocket(base: string): Promise<net.Socket> {
  const url = new URL(base);
  const socket = net.connect(Number(url.port), url.hostname);
  socket.pause(); // nothing is read: the kernel buffers fill and the server's writes stall
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  return socket;
}

const BIG = 8 * 1024 * 1024; // larger than both sides' socket buffers together

function pushHead(token: string, name: string, length: number): string {
  return (
    `PUT /v1/sessions/deaf/artifacts/${name} HTTP/1.1\r\nHost: x\r\n` +
    `Authorization: Bearer ${token}\r\nContent-Length: ${length}\r\n\r\n`
  );
}

describe('stopping the server', () => {
  it('ends once its grace period is over though a client never reads its answers', async () => {
    const s = await startTestServer({ shutdownGraceMs: 300 });
    let deaf: net.Socket | undefined;
    try {
      const put = await s.fetch('/v1/sessions/deaf/artifacts/big.bin', {
        method: 'PUT',
        body: Buffer.alloc(BIG, 7),
      });
      expect(put.status).toBe(201);
      deaf = await deafSocket(s.url);
      deaf.write(
        `GET /v1/sessions/deaf/artifacts/big.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\n\r\n`,
      );
      // Let the download get under way (its answer stalls on the unread socket).
      await new Promise((r) => setTimeout(r, 300));
      // Without the cut after the grace period this never resolves (the test times out).
      await s.server.close();
      expect(s.server.server.listening).toBe(false);
    } finally {
      deaf?.destroy();
      await s.app.close();
    }
  });

  it('never cuts a push whose commit is underway: it is answered 201 after the grace period', async () => {
    const catalogUrl = await freshPgDatabase();
    const s = await startTestServer({ catalogUrl, shutdownGraceMs: 200 });
    const locker = new pg.Client({ connectionString: catalogUrl });
    await locker.connect();
    try {
      expect(
        (await s.fetch('/v1/sessions/c/artifacts/first.txt', { method: 'PUT', body: 'a' })).status,
      ).toBe(201);
      // Another transaction holds the artifacts table: the push's commit waits on it.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE artifacts IN EXCLUSIVE MODE');
      const url = new URL(s.url);
      const socket = net.connect(Number(url.port), url.hostname);
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      const ended = new Promise((r) => socket.once('close', r));
      await new Promise((r) => socket.once('connect', r));
      socket.write(pushHead(s.token, 'held.txt', 4).replace('/deaf/', '/c/') + 'held');
      // Until the push waits on the lock: its body is in, its commit under way.
      for (;;) {
        const r = await locker.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        );
        if (Number(r.rows[0].n) > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const closed = s.server.close();
      // Well past the grace period: every other connection would be cut by now, not this one.
      await new Promise((r) => setTimeout(r, 1000));
      expect(socket.destroyed).toBe(false);
      expect(answer).toBe('');
      await locker.query('COMMIT');
      await ended;
      await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 201 /);
      const rec = await s.app.artifacts.find('c', 'held.txt');
      expect(rec.size).toBe(4);
    } finally {
      await locker.end();
      await s.app.close();
    }
  });

  it('answers a request that arrives on an open connection during the stop with 503 server_stopping', async () => {
    const s = await startTestServer({ shutdownGraceMs: 60_000 });
    try {
      const url = new URL(s.url);
      const socket = net.connect(Number(url.port), url.hostname);
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      const ended = new Promise((r) => socket.once('close', r));
      await new Promise((r) => socket.once('connect', r));
      // A push whose body is half sent keeps its connection busy while the stop begins.
      socket.write(pushHead(s.token, 'slow.txt', 10));
      socket.write('hello');
      await new Promise((r) => setTimeout(r, 100));
      const closed = s.server.close();
      // The push finishes and is answered; the next request on the connection is refused.
      // One write: the second request is parsed with the end of the first, before any close.
      socket.write(
        `world` +
          `GET /v1/sessions/deaf HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\n\r\n`,
      );
      await ended;
      await closed;
      const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]);
      expect(statuses).toEqual(['201', '503']);
      expect(answer).toContain('"code":"server_stopping"');
      expect(answer).toMatch(/retry-after: \d+/i);
    } finally {
      await s.app.close();
    }
    const back = await startTestServer({ dataDir: s.dataDir });
    try {
      const r = await back.fetch('/v1/sessions/deaf/artifacts/slow.txt');
      expect(await r.text()).toBe('helloworld');
    } finally {
      await back.close();
    }
  });

  it('a SIGTERMed cairn serve exits past a client that never reads, and every acknowledged push reads back', async () => {
    const dataDir = tempDir();
    const srv = await spawnServer(dataDir, ['--shutdown-grace', '1s']);
    const auth = { Authorization: `Bearer ${srv.token}` };
    const put = await fetch(`${srv.url}/v1/sessions/deaf/artifacts/big.bin`, {
      method: 'PUT',
      headers: auth,
      body: Buffer.alloc(BIG, 7),
    });
    expect(put.status).toBe(201);
    // One client downloads and never reads; another pipelines pushes and never reads the 201s.
    const deaf = [await deafSocket(srv.url), await deafSocket(srv.url)];
    deaf[0].write(
      `GET /v1/sessions/deaf/artifacts/big.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${srv.token}\r\n\r\n`,
    );
    for (let i = 0; i < 50; i++) deaf[1].write(pushHead(srv.token, `d${i}.txt`, 2) + 'ok');
    // Readers push while the server is told to stop; what they got a 201 for must survive.
    const acked: string[] = [];
    let stopping = false;
    const writer = async (w: number) => {
      for (let i = 0; ; i++) {
        const name = `w${w}-${i}.txt`;
        try {
          const r = await fetch(`${srv.url}/v1/sessions/live/artifacts/${name}`, {
            method: 'PUT',
            headers: auth,
            body: name,
          });
          await r.text();
          if (r.status === 201) acked.push(name);
          else expect([503]).toContain(r.status);
        } catch {
          return; // connection refused or cut: the server is gone
        }
        if (stopping && i > 1000) return;
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acked.length < 20) await new Promise((r) => setTimeout(r, 20));
    stopping = true;
    const code = await srv.stop();
    await Promise.all(writers);
    deaf.forEach((d) => d.destroy());
    expect(code).toBe(0);
    expect(srv.stdout()).toContain('Cairn stopped');

    const back = await spawnServer(dataDir);
    try {
      for (const name of acked) {
        const r = await fetch(`${back.url}/v1/sessions/live/artifacts/${name}`, { headers: auth });
        expect(r.status, name).toBe(200);
        expect(await r.text()).toBe(name);
      }
      // The deaf pusher's pushes are each whole or absent, never half-written.
      const list = await fetch(`${back.url}/v1/artifacts?session=deaf&limit=100`, {
        headers: auth,
      });
      const items = ((await list.json()) as { items: { name: string; size: number }[] }).items;
      for (const a of items.filter((x) => x.name !== 'big.bin')) expect(a.size).toBe(2);
    } finally {
      await back.stop();
    }
  }, 60_000);
});
