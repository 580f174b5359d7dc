import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
const PUSHES = 10_000;

beforeAll(async () => {
  s = await startTestServer({ durability: 'process' });
  // 10,000 real pushes, 16 at a time: the bus's whole window of artifact.created events.
  let next = 0;
  const worker = async () => {
    while (next < PUSHES) {
      const i = next++;
      const res = await s.fetch(`/v1/sessions/replay/artifacts/f${i}.txt?meta.n=${i}`, {
        method: 'PUT',
        body: `file ${i}`,
      });
      if (res.status !== 201) throw new Error(`push ${i}: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}, 600_000);
afterAll(async () => s?.close());

/** The `id:` lines and `event:` names of an SSE text, in order. */
function parse(text: string): { ids: number[]; gaps: number } {
  const ids = [...text.matchAll(/^id: (\d+)\nevent: /gm)].map((m) => Number(m[1]));
  const gaps = [...text.matchAll(/^event: gap$/gm)].length;
  return { ids, gaps };
}

describe('event replay after 10,000 pushes', () => {
  it('`cairn events --after 0` replays every one of them (the real CLI)', async () => {
    const r = await runCli(
      ['events', '--after', '0', '--count', String(PUSHES), '--json', '--session', 'replay'],
      { env: { CAIRN_URL: s.url, CAIRN_TOKEN: s.token } },
    );
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: { name: string } });
    expect(events).toHaveLength(PUSHES);
    expect(events.every((e) => e.type === 'artifact.created')).toBe(true);
    expect(new Set(events.map((e) => e.data.name)).size).toBe(PUSHES);
    expect(r.stderr).not.toContain('no longer available');
  }, 120_000);

  it('a client that stops reading is paced, not dropped: it reads on from the catalog, missing nothing', async () => {
    const url = new URL(s.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nLast-Event-ID: 0\r\n\r\n`,
    );
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    // Read the first bytes, then stop reading while more than the bus's in-memory window of
    // large events goes by (real catalog writes, 1,000 rows a transaction).
    await until(() => text.includes('event: artifact.created'));
    socket.pause();
    const sha = createHash('sha256').update('file 0').digest('hex');
    const pad = 'p'.repeat(2000);
    for (let b = 0; b < 12; b++) {
      await s.app.catalog.addArtifacts(
        Array.from({ length: 1000 }, (_, i) => ({
          id: newId('a'),
          session: 'other',
          name: `big-${b}-${i}`,
          sha256: sha,
          size: 6,
          contentType: 'text/plain',
          meta: { pad },
          createdAt: Date.now(),
          expiresAt: null,
          derivedFrom: [],
          sessionExpiresAt: null,
        })),
      );
    }
    const last = await s.app.catalog.events.tail();
    socket.resume();
    await until(() => text.includes(`id: ${last}\n`));
    const { ids, gaps } = parse(text);
    expect(gaps).toBe(0);
    // Every event of the stream, from the first to the newest, once each and in order.
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => ids[0] + k));
    expect(ids).toHaveLength(PUSHES + 12_000);
    expect(ids.at(-1)).toBe(last);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  }, 120_000);
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}
