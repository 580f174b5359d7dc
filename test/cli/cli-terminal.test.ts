import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// The CLI as a new user meets it in a shell: pipes that close early, a mistyped flag, a wait
// on a session id with a typo, and metadata that carries terminal escape sequences.

let server: ServerProcess;
let work: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], input?: string) => runCli(args, { env, cwd: work, input });
const put = (path: string, body: string) =>
  fetch(`${server.url}${path}`, {
    method: 'PUT',
    body,
    headers: { Authorization: `Bearer ${server.token}` },
  });

beforeAll(async () => {
  work = tempDir();
  server = await spawnServer(join(work, 'data'));
  env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
  // Well over a pipe's 64 KiB of table: 100 artifacts with 2 KiB of metadata each.
  const value = 'v'.repeat(1000);
  for (let i = 0; i < 100; i++)
    expect(
      (
        await put(
          `/v1/sessions/wide/artifacts/f${i}.txt?meta.a=${value}&meta.b=${value}`,
          'x'.repeat(i + 1),
        )
      ).status,
    ).toBe(201);
  expect((await put('/v1/sessions/wide/artifacts/big.bin', 'y'.repeat(4 << 20))).status).toBe(201);
});
afterAll(async () => server.stop());

/** Runs `cairn …` piped into `reader` through bash with pipefail: the CLI's stderr and status. */
function piped(cairnArgs: string, reader: string) {
  return spawnSync(
    'bash',
    [
      '-c',
      `set -o pipefail; node ${CLI} ${cairnArgs} 2>"$ERR" | ${reader} >/dev/null; echo "$?"; cat "$ERR"`,
    ],
    { encoding: 'utf8', env: { ...process.env, ...env, ERR: join(work, 'stderr.txt') } },
  );
}

describe('a reader that stops early ends cairn quietly (exit 0, nothing on stderr)', () => {
  it.each([
    ['ls', 'head -1'],
    ['ls --json', 'head -c 10'],
    ['pull wide/big.bin -o -', 'head -c 10'],
  ])('cairn %s | %s', (args, reader) => {
    const r = spawnSync('true'); // keeps the table's shape readable below
    expect(r.status).toBe(0);
    const out = piped(args, reader);
    expect(out.stdout).toBe('0\n');
  });
});

describe('push --meta without =', () => {
  it('is a usage error (exit 2), not a file named after the word', async () => {
    const r = await cli(['push', 'report.md', '--session', 'm1', '--meta', 'foo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--meta 'foo' must be key=value");
    const eq = await cli(['push', '-', '--name', 'x.txt', '--session', 'm1', '--meta=bar'], 'x');
    expect(eq.code).toBe(2);
    expect(eq.stderr).toContain("--meta 'bar' must be key=value");
  });

  it('pairs followed by a file name still push that file', async () => {
    const r = await cli(
      ['push', '--session', 'm2', '--meta', 'a=1', 'b=2', '-', '--name', 'in.txt'],
      'hi',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('a=1 b=2');
  });

  it('ls --meta KEY (the key is set) is still a query', async () => {
    const r = await cli(['ls', '--meta', 'a', '--session', 'm2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('in.txt');
  });
});

describe('cairn wait says what it waits for', () => {
  it('a session that does not exist: said at once, and again at the timeout', async () => {
    const r = await cli(['wait', 'typo_session', '--timeout', '1s']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(
      'waiting up to 1s for session typo_session to be sealed (it does not exist yet)',
    );
    expect(r.stderr).toContain(
      'typo_session was not sealed within 1s: it does not exist; check the id',
    );
  });

  it('an open session: its state; a sealed one: no waiting message', async () => {
    const open = await cli(['wait', 'wide', '--timeout', '1s']);
    expect(open.code).toBe(6);
    expect(open.stderr).toContain('(it is open, 101 artifacts)');
    expect((await cli(['seal', 'm2'])).code).toBe(0);
    const sealed = await cli(['wait', 'm2']);
    expect(sealed.code).toBe(0);
    expect(sealed.stderr).toBe('');
  });
});

describe('control characters in metadata (terminal injection)', () => {
  // OSC window title, BEL, CR LF (a forged line), NUL, and C1 CSI (U+009B) + SGR.
  const evil = '\u001b]0;pwned\u0007\r\nFAKE\u0000\u009b31m';
  const escaped = '^[]0;pwned^G^M^JFAKE^@^[[31m';
  const noNul = evil.replace('\u0000', '');

  // argv cannot carry NUL: the artifact is pushed over HTTP, the session's meta patched.
  beforeAll(async () => {
    const q = `meta.t=${encodeURIComponent(evil)}`;
    expect((await put(`/v1/sessions/esc/artifacts/e.txt?${q}`, 'x')).status).toBe(201);
    const patch = await fetch(`${server.url}/v1/sessions/esc`, {
      method: 'PATCH',
      body: JSON.stringify({ meta: { t: evil } }),
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    });
    expect(patch.status).toBe(200);
  });

  it.each([
    ['ls', ['ls', '--session', 'esc']],
    ['show', ['show', 'esc']],
    ['sessions', ['sessions', '--where', "id = 'esc'"]],
    ['push', ['push', '-', '--name', 'f.txt', '--session', 'esc2', '--meta', `t=${noNul}`]],
  ])('%s prints them escaped, as gh does', async (name, args) => {
    const r = await cli(args, 'x');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`t=${name === 'push' ? escaped.replace('^@', '') : escaped}`);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('--json keeps the value exact', async () => {
    const r = await cli(['ls', '--session', 'esc', '--json']);
    const page = JSON.parse(r.stdout) as { items: { meta: { t: string } }[] };
    expect(page.items[0].meta.t).toBe(evil);
  });
});

describe('-q / --quiet prints ids only, one a line', () => {
  it('push, ls, sessions', async () => {
    const pushed = await cli(['push', '-', '--name', 'q.txt', '--session', 'quiet', '-q'], 'q');
    expect(pushed.stdout).toMatch(/^a_[0-9A-Z]{26}\n$/);
    const ls = await cli(['ls', '--session', 'quiet', '--quiet']);
    expect(ls.stdout).toBe(pushed.stdout);
    const sessions = await cli(['sessions', '--where', "id = 'quiet'", '-q']);
    expect(sessions.stdout).toBe('quiet\n');
    const none = await cli(['ls', '--session', 'no_such_session', '-q']);
    expect([none.code, none.stdout]).toEqual([0, '']);
  });
});

describe('cairn show pages like ls', () => {
  it('--limit gives a page and the --cursor of the next; following it lists every artifact once', async () => {
    const first = await cli(['show', 'wide', '--limit', '60']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('artifacts 101');
    const ids = (out: string) => out.match(/^a_[0-9A-Z]{26}/gm) ?? [];
    expect(ids(first.stdout)).toHaveLength(60);
    const cursor = /--cursor (\S+)\)$/m.exec(first.stdout)?.[1];
    expect(cursor).toBeDefined();
    const rest = await cli(['show', 'wide', '--limit', '60', '--cursor', cursor as string]);
    expect(ids(rest.stdout)).toHaveLength(41);
    expect(rest.stdout).not.toContain('(more:');
    expect(new Set([...ids(first.stdout), ...ids(rest.stdout)]).size).toBe(101);
    const json = JSON.parse((await cli(['show', 'wide', '--limit', '5', '--json'])).stdout) as {
      artifacts: unknown[];
      next_cursor: string;
    };
    expect([json.artifacts.length, typeof json.next_cursor]).toEqual([5, 'string']);
    expect((await cli(['show', 'no_such', '--limit', '5'])).code).toBe(3);
  });
});
