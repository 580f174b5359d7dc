import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// The real `cairn serve` process and the real CLI, as the README's retention section uses them.
let server: ServerProcess;
let work: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[]) => runCli(args, { env, cwd: work });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const root = tempDir();
  work = root;
  // A long sweep interval: here expired things go when `cairn gc` says so.
  server = await spawnServer(join(root, 'data'), [
    '--sweep-interval',
    '1h',
    '--keep-versions',
    '2',
  ]);
  env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
  writeFileSync(join(work, 'report.md'), '# report\n');
  writeFileSync(join(work, 'big.bin'), Buffer.alloc(5000, 7));
});
afterAll(async () => server.stop());

describe('cairn push --ttl, pin, unpin', () => {
  it('a pinned session outlives its TTL; unpinned, it is gone at once', async () => {
    const pushed = await json<{ expires_at: string }>([
      'push',
      'report.md',
      '--session',
      'run_7',
      '--ttl',
      '3s',
    ]);
    expect(pushed.expires_at).not.toBeNull();
    const pin = await cli(['pin', 'run_7']);
    expect(pin.code).toBe(0);
    expect(pin.stdout).toBe('pinned run_7\n');
    // Pinned before its TTL ran out (a pin removes what had already expired): 3 s leaves room
    // for two CLI processes on a busy machine. Then past the TTL.
    await sleep(Math.max(0, Date.parse(pushed.expires_at) - Date.now()) + 200);
    expect((await cli(['pull', 'run_7/report.md', '-o', '-'])).stdout).toBe('# report\n');
    const unpin = await cli(['unpin', 'run_7']);
    expect(unpin.code).toBe(0);
    expect(unpin.stdout).toBe('unpinned run_7\n');
    const gone = await cli(['pull', 'run_7/report.md', '-o', '-']);
    expect(gone.code).toBe(3);
    expect((await cli(['pin', 'no_such_session'])).code).toBe(3);
  });
});

describe('cairn gc', () => {
  it('--dry-run prints what would go and the bytes it frees (dedupe counted); gc frees that', async () => {
    await cli(['gc']); // start from a clean slate (earlier tests leave expired things)
    // big.bin once with a TTL and once without: its 5000 bytes are not freed.
    await cli(['push', 'big.bin', '--session', 'g1', '--name', 'a.bin', '--ttl', '1s']);
    await cli(['push', 'big.bin', '--session', 'g1', '--name', 'b.bin']);
    writeFileSync(join(work, 'gone.txt'), 'x'.repeat(300));
    await cli(['push', 'gone.txt', '--session', 'g2', '--ttl', '1s']);
    await cli(['push', 'gone.txt', '--session', 'g2', '--name', 'again.txt', '--ttl', '1s']);
    await sleep(1500);
    const dry = await cli(['gc', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would remove 0 expired session(s), 3 artifact(s)');
    expect(dry.stdout).toContain('would free 300 bytes (300 B) in 1 blob(s)');
    const plan = await json<{ bytes_freed: number; artifacts_expired: number }>([
      'gc',
      '--dry-run',
    ]);
    const real = await json<{ dry_run: boolean; bytes_freed: number; artifacts_expired: number }>([
      'gc',
    ]);
    expect(real).toMatchObject({ ...plan, dry_run: false });
    expect((await cli(['pull', 'g1/b.bin', '-o', '-'])).stdout).toHaveLength(5000);
    const after = await cli(['gc']);
    expect(after.stdout).toContain('removed 0 expired session(s), 0 artifact(s)');
    expect(after.stdout).toContain('freed 0 bytes');
  });

  it('needs an admin token', async () => {
    const t = await json<{ token: string }>(['token', 'create', '--scope', 'write']);
    const r = await runCli(['gc', '--dry-run'], {
      env: { CAIRN_URL: server.url, CAIRN_TOKEN: t.token },
      cwd: work,
    });
    expect(r.code).toBe(5);
  });
});

describe('cairn serve --keep-versions and cairn rm SESSION', () => {
  it('keeps the newest two versions; rm removes an open session whole, refuses a sealed one', async () => {
    for (let v = 1; v <= 3; v++) {
      writeFileSync(join(work, 'log.txt'), `v${v}`);
      await cli(['push', 'log.txt', '--session', 'kv']);
    }
    const show = await json<{ artifacts: { version: number }[] }>(['show', 'kv']);
    expect(show.artifacts.map((a) => a.version)).toEqual([2, 3]);
    const rm = await cli(['rm', 'kv', '--yes']);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe('deleted session kv (2 artifacts)\n');
    expect((await cli(['show', 'kv'])).code).toBe(3);
    await cli(['push', 'log.txt', '--session', 'kv_sealed']);
    await cli(['seal', 'kv_sealed']);
    expect((await cli(['rm', 'kv_sealed', '--yes'])).code).toBe(4);
  });
});
