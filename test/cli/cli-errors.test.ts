import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// What a new user meets first when something is not set up: each failure is one line on
// stderr saying what is wrong and what to do, never Node's or OpenSSL's raw text.

let server: ServerProcess;
let outside: string;
beforeAll(async () => {
  const root = tempDir();
  server = await spawnServer(join(root, 'data'));
  outside = join(root, 'elsewhere');
  writeFileSync(join(root, 'a-file'), 'x');
});
afterAll(async () => server.stop());

/** One line (plus nothing else) on stderr. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0];
}

describe('no token, outside the checkout', () => {
  it('the CLI says where it looked and what to set (exit 5)', async () => {
    const r = await runCli(['ls'], { env: { CAIRN_URL: server.url, CAIRN_DATA: outside } });
    expect(r.code).toBe(5);
    const line = oneLine(r.stderr);
    expect(line).toContain('no token');
    expect(line).toContain('--token');
    expect(line).toContain('CAIRN_TOKEN');
    expect(line).toContain(join(outside, 'admin.token'));
    expect(line).toContain('cairn token create');
    expect(line).not.toContain('send Authorization');
  });

  it('an empty CAIRN_TOKEN counts as none (the admin token file is used)', async () => {
    const r = await runCli(['sessions'], {
      env: { CAIRN_URL: server.url, CAIRN_TOKEN: '', CAIRN_DATA: server.dataDir },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a wrong token keeps the server message (the hint is only for a missing one)', async () => {
    const r = await runCli(['ls', '--token', 'cairn_wrong'], { env: { CAIRN_URL: server.url } });
    expect(r.code).toBe(5);
    expect(r.stderr).not.toContain('no token');
  });
});

describe('connection errors are one line with the next step', () => {
  const cases: [string, () => string, RegExp][] = [
    ['refused', () => 'http://127.0.0.1:9', /nothing is listening there; start the server/],
    [
      'unknown host',
      () => 'http://no-such-host.invalid:7070',
      /no such host 'no-such-host.invalid'/,
    ],
    [
      'https to a plain server',
      () => server.url.replace('http:', 'https:'),
      /does not speak https; use http:\/\/127\.0\.0\.1:\d+/,
    ],
  ];
  it.each(cases)('%s', async (_name, url, expected) => {
    const r = await runCli(['ls', '--url', url(), '--token', 'x']);
    expect(r.code).toBe(1);
    const line = oneLine(r.stderr);
    expect(line).toMatch(/^cairn: cannot reach Cairn at \S+: /);
    expect(line).toMatch(expected);
    expect(line).not.toMatch(/ECONNREFUSED|ENOTFOUND|getaddrinfo|ssl3_|openssl/);
  });
});

describe('cairn serve start-up errors', () => {
  it('a port in use', async () => {
    const port = new URL(server.url).port;
    const r = await runCli(['serve', '--port', port, '--data', join(tempDir(), 'd')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${port} is already in use .* --port P \\(CAIRN_PORT`),
    );
  });

  it('a data directory that is a file, or below one', async () => {
    const file = join(outside, '..', 'a-file');
    for (const data of [file, join(file, 'sub')]) {
      const r = await runCli(['serve', '--port', '0', '--data', data]);
      expect(r.code).toBe(1);
      const line = oneLine(r.stderr);
      expect(line).toContain(`cannot use ${data} as the data directory`);
      expect(line).toContain('give --data (CAIRN_DATA) a directory');
      expect(line).not.toMatch(/EEXIST|ENOTDIR|mkdir/);
    }
  });

  it('an address that is not this machine, and a bad port', async () => {
    const data = join(tempDir(), 'd');
    const r = await runCli(['serve', '--port', '0', '--host', '192.0.2.1', '--data', data]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toContain('192.0.2.1 is not an address of this machine');
    const bad = await runCli(['serve', '--port', '99999', '--data', data]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a whole number from 0 to 65535');
  });

  it('a port taken by something else than Cairn says the same', async () => {
    const other = createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = String((other.address() as { port: number }).port);
    try {
      const r = await runCli(['serve', '--port', port, '--data', join(tempDir(), 'd')]);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toContain(`127.0.0.1:${port} is already in use`);
    } finally {
      other.close();
    }
  });
});
