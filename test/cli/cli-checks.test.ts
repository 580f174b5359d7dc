import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
let work: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], e: NodeJS.ProcessEnv = env) => runCli(args, { env: e, cwd: work });

beforeAll(async () => {
  const root = tempDir();
  server = await spawnServer(join(root, 'data'));
  work = join(root, 'work');
  mkdirSync(work);
  writeFileSync(join(work, 'a.txt'), 'a');
  env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
});
afterAll(async () => server.stop());

describe('bad flag values are usage errors found before anything is sent', () => {
  it('exits 2 with the reason, with no server to reach (a request would exit 1)', async () => {
    const nowhere = { CAIRN_URL: 'http://127.0.0.1:9', CAIRN_TOKEN: 'x' };
    const cases: [string[], string][] = [
      [['push', 'a.txt', '--session', 's', '--ttl', 'soon'], "--ttl 'soon' is not a duration"],
      [['share', 's', '--ttl', 'soon'], "--ttl 'soon' is not a duration"],
      [['import', 'a.txt', '--ttl', '0s'], 'must be greater than zero'],
      [['ls', '--limit', '5000'], '--limit must be a whole number from 1 to 1000'],
      [['sessions', '--limit', '0'], '--limit must be a whole number from 1 to 1000'],
      [['ls', '--since', '5'], '--since must be an ISO-8601 time'],
      [['ls', '--until', 'yesterday'], '--until must be an ISO-8601 time'],
      [['sessions', '--sealed', '--open'], 'mutually exclusive'],
      [
        ['push', 'a.txt', '--session', 's', '--ttl', '1h', '--ttl', '2h'],
        '--ttl is given more than once',
      ],
      [['ls', '--limit', '5', '--limit', '6'], '--limit is given more than once'],
    ];
    for (const [args, why] of cases) {
      const r = await cli(args, nowhere);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(why);
    }
  });

  it('serve refuses a bad flag value before it touches the data directory', async () => {
    const data = join(tempDir(), 'never');
    const r = await cli(['serve', '--port', '0', '--data', data, '--max-size', 'huge']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--max-size 'huge' is not a size");
    expect(existsSync(data)).toBe(false);
  });
});

describe('what the server refuses reaches the user', () => {
  it('events --after stops at a refusal (bad token) instead of retrying silently forever', async () => {
    const r = await cli(['events', '--after', '0', '--count', '1'], {
      ...env,
      CAIRN_TOKEN: 'wrong',
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('cairn:');
  });

  it('share SESSION/NAME of a missing name says what is missing', async () => {
    expect((await cli(['push', 'a.txt', '--session', 'sh'])).code).toBe(0);
    const r = await cli(['share', 'sh/missing.txt']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("'missing.txt' not found in session 'sh'");
  });

  it('verify SESSION works next to a directory of that name (what pull SESSION makes)', async () => {
    expect((await cli(['seal', 'sh'])).code).toBe(0);
    expect((await cli(['pull', 'sh'])).code).toBe(0);
    const r = await cli(['verify', 'sh']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('session   sh (sealed)');
  });

  it('verify reads an export from a pipe (a FIFO, as <(…) in a shell gives)', async () => {
    expect((await cli(['export', 'sh', '-o', 'sh.tar'])).code).toBe(0);
    const fifo = join(work, 'export.fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for writing waits for its reader: the CLI.
    const writer = writeFile(fifo, readFileSync(join(work, 'sh.tar')));
    const r = await runCli(['verify', fifo], {
      cwd: work,
      env: { CAIRN_URL: 'http://127.0.0.1:9' }, // read locally: no server needed
    });
    await writer;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('session   sh (sealed)');
  });
});

describe('pull -o - checks what it streams', () => {
  it('exits 1 and says to discard the output when the bytes do not match their sha256', async () => {
    const bytes = randomBytes(100_000); // over 64 KiB: a blob file, not a catalog row
    writeFileSync(join(work, 'big.bin'), bytes);
    expect((await cli(['push', 'big.bin', '--session', 'corrupt'])).code).toBe(0);
    const good = await cli(['pull', 'corrupt/big.bin', '-o', '-']);
    expect(good.code).toBe(0);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const file = join(server.dataDir, 'blobs', sha.slice(0, 2), sha.slice(2, 4), sha);
    const fd = openSync(file, 'r+');
    writeSync(fd, 'CORRUPT', 0);
    closeSync(fd);
    const bad = await cli(['pull', 'corrupt/big.bin', '-o', '-']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'download of big.bin did not match its sha256: discard what was written to stdout',
    );
  });
});

describe('ls and sessions page with --cursor', () => {
  it('print the cursor of the next page and take it back', async () => {
    for (const n of ['p1', 'p2', 'p3'])
      expect((await cli(['push', 'a.txt', '--session', 'paged', '--name', n])).code).toBe(0);
    const first = await cli(['ls', '--session', 'paged', '--limit', '2']);
    const cursor = /--cursor (\S+)\)/.exec(first.stdout)?.[1];
    expect(cursor, first.stdout).toBeTruthy();
    expect(first.stdout).toMatch(/p3[\s\S]*p2/);
    const next = await cli(['ls', '--session', 'paged', '--limit', '2', '--cursor', cursor ?? '']);
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('p1');
    expect(next.stdout).not.toContain('--cursor');
    const sessions = await cli(['sessions', '--limit', '1']);
    const sc = /--cursor (\S+)\)/.exec(sessions.stdout)?.[1];
    expect(sc, sessions.stdout).toBeTruthy();
    const more = await cli(['sessions', '--limit', '1', '--cursor', sc ?? '']);
    expect(more.code).toBe(0);
    expect(more.stdout.split('\n')[1]).not.toBe(sessions.stdout.split('\n')[1]);
  });
});
