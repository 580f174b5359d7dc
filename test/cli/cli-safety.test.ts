import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// Commands that destroy something ask first: `rm SESSION` on a terminal (util-linux `script`
// gives the CLI a real pseudo-terminal), and `pull` does not replace a file unless told to.

let server: ServerProcess;
let work: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], input?: string) => runCli(args, { env, cwd: work, input });

beforeAll(async () => {
  work = tempDir();
  server = await spawnServer(join(work, 'data'));
  env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
});
afterAll(async () => server.stop());

/** `cairn …` on a pseudo-terminal, with `typed` as what the user types: exit code and screen. */
function onTerminal(args: string, typed: string) {
  const r = spawnSync('script', ['-qec', `node ${CLI} ${args}`, '/dev/null'], {
    cwd: work,
    env: { ...process.env, ...env },
    input: typed,
    encoding: 'utf8',
  });
  return { code: r.status, screen: r.stdout };
}

const exists = async (session: string) =>
  (
    await fetch(`${server.url}/v1/sessions/${session}`, {
      headers: { Authorization: `Bearer ${server.token}` },
    })
  ).status === 200;

describe('cairn rm SESSION asks first', () => {
  beforeAll(async () => {
    for (const s of ['rm_a', 'rm_b', 'rm_c', 'rm_d'])
      expect((await cli(['push', '-', '--name', 'x.txt', '--session', s], 'x')).code).toBe(0);
  });

  it('on a terminal, anything but y keeps the session (exit 1)', async () => {
    const r = onTerminal('rm rm_a', 'n\n');
    expect(r.screen).toContain(
      'Delete session rm_a and its 1 artifacts? This cannot be undone. [y/N]',
    );
    expect(r.screen).toContain('cancelled; nothing was deleted');
    expect(r.code).toBe(1);
    expect(await exists('rm_a')).toBe(true);
  });

  it('on a terminal, y deletes it', async () => {
    const r = onTerminal('rm rm_b', 'y\n');
    expect(r.code).toBe(0);
    expect(r.screen).toContain('deleted session rm_b (1 artifacts)');
    expect(await exists('rm_b')).toBe(false);
  });

  it('without a terminal it refuses unless --yes (usage error, nothing sent)', async () => {
    const r = await cli(['rm', 'rm_c']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pass --yes to confirm');
    expect(await exists('rm_c')).toBe(true);
    const yes = await cli(['rm', 'rm_c', '--yes']);
    expect(yes.code).toBe(0);
    expect(await exists('rm_c')).toBe(false);
    expect((await cli(['rm', 'rm_d', '-y'])).code).toBe(0);
  });

  it('an artifact id is deleted without asking', async () => {
    const id = (
      await cli(['push', '-', '--name', 'y.txt', '--session', 'rm_e', '-q'], 'y')
    ).stdout.trim();
    const r = await cli(['rm', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`deleted ${id}`);
  });
});

describe('cairn pull does not replace a file without --force', () => {
  beforeAll(async () => {
    expect((await cli(['push', '-', '--name', 'out.txt', '--session', 'pf'], 'new')).code).toBe(0);
    expect((await cli(['push', '-', '--name', 'b.txt', '--session', 'pf'], 'b')).code).toBe(0);
  });

  it('one file: refused (exit 1, file untouched), then replaced with --force', async () => {
    writeFileSync(join(work, 'out.txt'), 'mine');
    const r = await cli(['pull', 'pf/out.txt']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(work, 'out.txt')} already exists: pass --force to replace`);
    expect(readFileSync(join(work, 'out.txt'), 'utf8')).toBe('mine');
    expect((await cli(['pull', 'pf/out.txt', '--force'])).code).toBe(0);
    expect(readFileSync(join(work, 'out.txt'), 'utf8')).toBe('new');
  });

  it('a session: refused before anything is written when one file is there', async () => {
    writeFileSync(join(work, 'b.txt'), 'mine');
    const r = await cli(['pull', 'pf', '-o', '.']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already exist');
    expect(readFileSync(join(work, 'b.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(work, 'out.txt'), 'utf8')).toBe('new');
    expect(existsSync(join(work, 'pf'))).toBe(false);
    expect((await cli(['pull', 'pf', '-o', '.', '-f'])).code).toBe(0);
    expect(readFileSync(join(work, 'b.txt'), 'utf8')).toBe('b');
  });
});

describe('--format TEMPLATE', () => {
  beforeAll(async () => {
    const r = await cli(
      ['push', '-', '--name', 'f.txt', '--session', 'fmt', '--meta', 'agent=a\u001b[31m'],
      'f',
    );
    expect(r.code).toBe(0);
  });

  it('one line per item with fields and meta.KEY; values exact in a pipe', async () => {
    const r = await cli([
      'ls',
      '--session',
      'fmt',
      '--format',
      '{session}/{name} v{version} {meta.agent} {meta.none}|{{}}',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('fmt/f.txt v1 a\u001b[31m |{}\n');
    const s = await cli(['sessions', '--where', "id = 'fmt'", '--format', '{id}:{artifact_count}']);
    expect(s.stdout).toBe('fmt:1\n');
  });

  it('escaped on a terminal', () => {
    const r = onTerminal("ls --session fmt --format '{meta.agent}'", '');
    expect(r.code).toBe(0);
    expect(r.screen).toContain('a^[[31m');
    expect(r.screen).not.toContain('\u001b[31m');
  });

  it('an unknown field is a usage error naming the fields', async () => {
    const r = await cli(['ls', '--session', 'fmt', '--format', '{nope}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--format: no field 'nope'; the fields are id, session, name");
  });
});
