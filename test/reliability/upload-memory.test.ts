import { execFileSync } from 'node:child_process';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import {
  filesOver,
  mib,
  rssOf,
  stallUploads,
  until,
  type StalledUpload,
} from './stalled-uploads.js';

const MiB = 1024 * 1024;
/** The default --max-upload-memory. */
const CAP = 256 * MiB;
const STALLED = 500;
/** Each sends 1.25 MiB: one full O_DIRECT buffer written to its temp file, the next one begun. */
const SENT = MiB + MiB / 4;

let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = tempDir('cairn-upload-memory-');
  server = await spawnServer(`${dir}/data`);
});
afterAll(async () => {
  await server?.stop();
  execFileSync('rm', ['-rf', dir]);
});

/** A counter or gauge of GET /metrics (0 if absent). */
async function metric(url: string, name: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, {
    headers: { Authorization: `Bearer ${server.token}` },
  });
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(await res.text());
  return m ? Number(m[1]) : 0;
}

/** Uploads the server took in (a temp file past its first buffer) plus those it refused. */
function settled(uploads: StalledUpload[]): { taken: number; refused: number } {
  const refused = uploads.filter((u) => u.answer() !== '').length;
  return { taken: filesOver(`${server.dataDir}/tmp`, MiB), refused };
}

describe('memory under 500 stalled uploads (real server process, real sockets)', () => {
  it('stays bounded by --max-upload-memory, refuses the rest with 503, and gives it back', async () => {
    const pid = server.child.pid as number;
    // Warm up the paths a push takes, so the baseline includes their code and caches.
    for (let i = 0; i < 5; i++)
      await fetch(`${server.url}/v1/sessions/warm/artifacts/w${i}.bin`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${server.token}` },
        body: Buffer.alloc(2 * MiB, i),
      });
    const baseline = rssOf(pid);

    const uploads = await stallUploads(server.url, server.token, STALLED, SENT, 64 * MiB);
    await until(() => {
      const s = settled(uploads);
      return s.taken + s.refused === STALLED;
    });
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      peak = Math.max(peak, rssOf(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    const { taken, refused } = settled(uploads);

    const collections = () => metric(server.url, 'cairn_upload_memory_collections_total');
    const before = await collections();
    for (const u of uploads) u.socket.destroy();
    await until(() => filesOver(`${server.dataDir}/tmp`, 0) === 0);
    // The buffers are garbage now, freed by the collection the blob store runs once uploads
    // are quiet (about a second after the last one closed; V8 alone took minutes): wait for it,
    // then for the memory it freed to leave the process.
    await until(async () => (await collections()) > before);
    await until(() => rssOf(pid) < baseline + (peak - baseline) / 2);
    const after = rssOf(pid);
    process.stdout.write(
      `stalled uploads: ${STALLED} (${taken} taken, ${refused} refused 503); RSS baseline ${mib(baseline)} MiB, under load ${mib(peak)} MiB, after they closed ${mib(after)} MiB\n`,
    );

    // Each upload taken holds its first 64 KiB and one 1 MiB buffer (reserved on arrival);
    // everything past the cap is refused before its body is read.
    expect(refused).toBeGreaterThan(0);
    expect(taken).toBeLessThanOrEqual(Math.floor(CAP / (MiB + 68 * 1024)) + 1);
    const sample = uploads.find((u) => u.answer() !== '')?.answer() ?? '';
    expect(sample).toMatch(/^HTTP\/1\.1 503 /);
    expect(sample).toMatch(/\r\nRetry-After: \d+\r\n/i);
    expect(sample).toContain('"code":"upload_memory_full"');
    // The bound: the cap itself (each upload taken reserves its first 64 KiB and one 1 MiB
    // buffer); as much again for the buffer each one filled and handed back, garbage until V8
    // collects it (a second after the uploads go quiet); and per connection (500 of them) the
    // socket's and parser's buffers and request objects, generously 128 KiB each. It scales with
    // --max-upload-memory, not with the number of uploads: before the cap, 500 took ~720 MiB
    // above the baseline, and each one more took ~1.5 MiB.
    expect(peak - baseline).toBeLessThan(2 * CAP + 500 * 128 * 1024);
    // Given back once they are gone.
    expect(after).toBeLessThan(baseline + (peak - baseline) / 2);
  }, 300_000);
});

/** A tar whose first entry is an export document of `bytes` bytes (its content is not checked). */
async function tarWithDocument(bytes: number): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'cairn-export.json' }, Buffer.alloc(bytes, 0x20));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('--max-upload-memory / CAIRN_MAX_UPLOAD_MEMORY', () => {
  it('8MiB from the environment: the 8th stalled upload is refused, and a 2 MiB import document is 413', async () => {
    const small = await spawnServer(`${dir}/small`, [], { CAIRN_MAX_UPLOAD_MEMORY: '8MiB' });
    try {
      // Each stalled upload reserves 64 KiB + one 1 MiB buffer: 7 fit in 8 MiB.
      const uploads = await stallUploads(small.url, small.token, 8, 128 * 1024, 64 * MiB);
      await until(() => uploads.some((u) => u.answer() !== ''));
      const refused = uploads.filter((u) => u.answer() !== '');
      expect(refused).toHaveLength(1);
      expect(refused[0].answer()).toMatch(/^HTTP\/1\.1 503 [\s\S]*"code":"upload_memory_full"/);
      for (const u of uploads) u.socket.destroy();
      // A document of 2 MiB costs ~12 MiB to parse: more than the whole budget.
      // Their reservations go as their connections close; until then an import may be a 503.
      let res = new Response();
      await until(async () => {
        res = await fetch(`${small.url}/v1/import`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${small.token}`, 'Content-Type': 'application/x-tar' },
          body: await tarWithDocument(2 * MiB),
        });
        return res.status !== 503;
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(413);
      expect(body.error.message).toContain('--max-upload-memory');
    } finally {
      await small.stop();
    }
  }, 120_000);

  it('the flag wins over the environment and refuses a value too small to use', async () => {
    const bad = await runCli(
      ['serve', '--port', '0', '--data', `${dir}/bad`, '--max-upload-memory', '1MiB'],
      {
        env: { CAIRN_MAX_UPLOAD_MEMORY: '1GiB' },
      },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-upload-memory must be at least 8MiB');
  });
});
