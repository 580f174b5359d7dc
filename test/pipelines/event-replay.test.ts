import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('a client that stops reading is paced, not dropped: it gets a gap and then continues', async () => {
    const url = new URL(s.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nLast-Event-ID: 0\r\n\r\n`,
    );
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    // Read the first bytes, then stop reading while a whole window of large events goes by.
    await until(() => text.includes('event: artifact.created'));
    socket.pause();
    const pad = 'p'.repeat(2000);
    for (let i = 0; i < 25_000; i++) s.app.events.publish('session.expired', 'other', { pad, i });
    const last = s.app.events.publish('session.expired', 'other', { final: true });
    socket.resume();
    await until(() => text.includes(`id: ${last.id}\n`));
    const { ids, gaps } = parse(text);
    expect(gaps).toBe(1);
    // Every id after the first is larger than the one before, and nothing is repeated.
    expect(ids.every((id, k) => k === 0 || id > ids[k - 1])).toBe(true);
    // After the gap the stream ran on to the newest event: the connection was kept.
    expect(ids.at(-1)).toBe(last.id);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  }, 120_000);
});

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}
