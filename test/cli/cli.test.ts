import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
let work: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], input?: string) => runCli(args, { env, cwd: work, input });
const json = async (args: string[], input?: string) => {
  const r = await cli([...args, '--json'], input);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown> & Record<string, unknown>[];
};

beforeAll(async () => {
  const root = tempDir();
  server = await spawnServer(join(root, 'data'));
  work = join(root, 'work');
  mkdirSync(join(work, 'site', 'img'), { recursive: true });
  writeFileSync(join(work, 'output.json'), '{"ok":true}');
  writeFileSync(join(work, 'site', 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(work, 'site', 'img', 'logo.svg'), '<svg/>');
  env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
});
afterAll(async () => server.stop());

describe('cairn push', () => {
  it('works exactly as the introduction writes it', async () => {
    const r = await cli([
      'push',
      'output.json',
      '--session',
      'run_42',
      '--meta',
      'agent=claude-sonnet',
      'pipeline=billing',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+NAME\s+V\s+SIZE/);
    expect(r.stdout).toContain('agent=claude-sonnet pipeline=billing');
  });

  it('pushes a directory recursively under relative names, with a name prefix', async () => {
    const recs = await json(['push', 'site', '--session', 'web', '--name', 'v1']);
    expect(recs.map((x) => x.name)).toEqual(['v1/img/logo.svg', 'v1/index.html']);
    expect(recs.map((x) => x.content_type)).toEqual(['image/svg+xml', 'text/html']);
  });

  it('pushes stdin with --name, and files given after --meta values', async () => {
    const rec = await json(
      [
        'push',
        '-',
        '--session',
        'pipe',
        '--name',
        'notes/log.txt',
        '--type',
        'text/plain',
        '--ttl',
        '1d',
      ],
      'from stdin',
    );
    expect(rec).toMatchObject({ name: 'notes/log.txt', content_type: 'text/plain', size: 10 });
    expect(rec.expires_at).not.toBeNull();
    const recs = await json(['push', '--session', 'pipe', '--meta', 'k=v', 'output.json']);
    expect(recs).toMatchObject({ name: 'output.json', meta: { k: 'v' } });
  });

  it('records lineage with --from and dedupes by reference (no re-upload)', async () => {
    const parent = await json(['push', 'output.json', '--session', 'lin']);
    const child = await json([
      'push',
      'output.json',
      '--session',
      'lin2',
      '--name',
      'derived.json',
      '--from',
      String(parent.id),
    ]);
    expect(child.derived_from).toEqual([parent.id]);
    expect(child.deduplicated).toBe(true);
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli(['push', 'output.json'])).code).toBe(2);
    expect((await cli(['push', '-', '--session', 's'])).code).toBe(2);
    expect((await cli(['push', 'missing.file', '--session', 's'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli([])).code).toBe(2);
  });

  it('skips symlinks in a directory unless -L follows them, and refuses an empty one', async () => {
    const d = join(work, 'linked');
    mkdirSync(join(d, 'sub'), { recursive: true });
    mkdirSync(join(work, 'outside'));
    writeFileSync(join(d, 'real.txt'), 'r');
    writeFileSync(join(work, 'outside', 'inner.txt'), 'i');
    symlinkSync(join(d, 'real.txt'), join(d, 'link.txt'));
    symlinkSync(join(work, 'outside'), join(d, 'linkdir'));
    symlinkSync(d, join(d, 'sub', 'loop'));
    const plain = await cli(['push', 'linked', '--session', 'links', '--json']);
    expect(plain.code).toBe(0);
    expect((JSON.parse(plain.stdout) as { name: string }[]).map((p) => p.name)).toEqual([
      'real.txt',
    ]);
    expect(plain.stderr).toContain("skipping 'linked/link.txt': a symbolic link");
    expect(plain.stderr).toContain('--follow-symlinks');
    const pushed = (await json(['push', 'linked', '-L', '--session', 'links'])) as unknown as {
      name: string;
    }[];
    expect(pushed.map((p) => p.name).sort()).toEqual(['link.txt', 'linkdir/inner.txt', 'real.txt']);
    symlinkSync(join(work, 'nothing-here'), join(d, 'dangling'));
    const warned = await cli(['push', 'linked', '-L', '--session', 'links']);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain("skipping '");
    mkdirSync(join(work, 'empty'));
    const empty = await cli(['push', 'empty', '--session', 'links']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('holds no files to push');
  });

  it('names the local file when import or export cannot use it', async () => {
    const missing = await cli(['import', 'nonexistent.tar']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read 'nonexistent.tar': no such file");
    expect(missing.stderr).not.toContain('cannot reach');
    const dir = await cli(['import', 'site']);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain('it is a directory');
    const nodir = await cli(['export', 'run_42', '-o', 'nodir/x.tar']);
    expect(nodir.code).toBe(2);
    expect(nodir.stderr).toContain('its directory does not exist');
  });

  it('a usage error runs nothing: no push, seal, delete or collection', async () => {
    const kept = (await json(['push', 'output.json', '--session', 'usage_kept'])) as unknown as {
      id: string;
    };
    const cases = [
      ['push', 'output.json'],
      ['seal'],
      ['rm', kept.id, '--force'],
      ['gc', '--dryrun'],
      ['ls', '--sesion', 'usage_kept'],
      ['token', 'create', '--name', 'x'],
    ];
    for (const args of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect((await cli(['show', 'undefined'])).code).toBe(3);
    const still = (await json(['show', 'usage_kept'])) as unknown as {
      artifacts: { id: string }[];
    };
    expect(still.artifacts.map((a) => a.id)).toEqual([kept.id]);
    const tokens = (await json(['token', 'ls'])) as unknown as { name: string }[];
    expect(tokens.map((t) => t.name)).not.toContain('x');
  });
});

describe('cairn ls, sessions, show, pull', () => {
  it('ls filters by session, meta, type and name', async () => {
    const page = await json(['ls', '--meta', 'pipeline=billing']);
    expect((page.items as { session: string }[]).map((a) => a.session)).toEqual(['run_42']);
    const html = await json(['ls', '--type', 'text/html', '--name', 'v1/*']);
    expect((html.items as { name: string }[]).map((a) => a.name)).toEqual(['v1/index.html']);
    const table = await cli(['ls', '--session', 'web']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID\s+SESSION\s+NAME\s+V\s+SIZE\s+TYPE\s+CREATED\s+META$/,
    );
  });

  it('sessions lists with --sealed / --open; show prints a session and its artifacts', async () => {
    await json(['seal', 'web']);
    const sealed = await json(['sessions', '--sealed']);
    expect((sealed.items as { id: string }[]).map((x) => x.id)).toEqual(['web']);
    const open = await json(['sessions', '--open']);
    expect((open.items as { id: string }[]).map((x) => x.id)).not.toContain('web');
    const show = await cli(['show', 'web']);
    expect(show.stdout).toMatch(/state\s+sealed/);
    expect(show.stdout).toMatch(/digest\s+[0-9a-f]{64}/);
    expect(show.stdout).toContain('v1/index.html');
  });

  it('pull by SESSION/NAME, by id, to stdout, and a whole session into a directory', async () => {
    await cli(['pull', 'run_42/output.json', '-o', 'a.json']);
    expect(readFileSync(join(work, 'a.json'), 'utf8')).toBe('{"ok":true}');
    const rec = (await json(['ls', '--session', 'pipe', '--name', 'notes/*'])).items as {
      id: string;
    }[];
    const out = await cli(['pull', rec[0].id, '-o', '-']);
    expect(out.stdout).toBe('from stdin');
    await cli(['pull', 'web', '-o', 'restored']);
    expect(readFileSync(join(work, 'restored', 'v1', 'img', 'logo.svg'), 'utf8')).toBe('<svg/>');
  });

  it('pull into an existing directory, and clear errors for impossible destinations', async () => {
    mkdirSync(join(work, 'into'));
    const into = await cli(['pull', 'run_42/output.json', '-o', 'into']);
    expect(into.code, into.stderr).toBe(0);
    expect(readFileSync(join(work, 'into', 'output.json'), 'utf8')).toBe('{"ok":true}');
    const session = await cli(['pull', 'web', '-o', '-']);
    expect(session.code).toBe(2);
    expect(session.stderr).toContain('cannot go to stdout');
    writeFileSync(join(work, 'afile'), 'x');
    const underFile = await cli(['pull', 'run_42/output.json', '-o', 'afile/x.json']);
    expect(underFile.code).toBe(1);
    expect(underFile.stderr).toContain('cannot write into');
  });

  it('pull --version takes a whole number, with SESSION/NAME only', async () => {
    const v = (await json([
      'push',
      'output.json',
      '--session',
      'pv',
      '--name',
      'v.json',
    ])) as unknown as {
      id: string;
    };
    for (const args of [
      ['pull', 'pv/v.json', '--version', 'abc'],
      ['pull', 'pv/v.json', '--version', '0'],
      ['pull', v.id, '--version', '1'],
      ['pull', 'pv', '--version', '1'],
    ]) {
      const r = await cli([...args, '-o', '-']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect((await cli(['pull', 'pv/v.json', '--version', '1', '-o', '-'])).stdout).toBe(
      '{"ok":true}',
    );
  });
});

describe('exit codes and errors', () => {
  it('3 for not found, 4 for a sealed session, 5 for a bad token', async () => {
    expect((await cli(['pull', 'run_42/nope.txt'])).code).toBe(3);
    expect((await cli(['show', 'no_such_session'])).code).toBe(3);
    const sealed = await cli(['push', 'output.json', '--session', 'web']);
    expect(sealed.code).toBe(4);
    expect(sealed.stderr).toContain('is sealed');
    const bad = await runCli(['ls'], {
      env: { CAIRN_URL: server.url, CAIRN_TOKEN: 'cairn_wrong' },
      cwd: work,
    });
    expect(bad.code).toBe(5);
  });

  it('refuses . and .. in names and ids before they can reach another route', async () => {
    const planted = await cli([
      'push',
      'output.json',
      '--session',
      'dots',
      '--name',
      'a/../../../elsewhere/artifacts/planted.txt',
    ]);
    expect(planted.code).toBe(1);
    expect(planted.stderr).toContain("'.' and '..' segments are not allowed");
    expect((await cli(['show', 'elsewhere'])).code).toBe(3);
    expect((await cli(['show', 'dots'])).code).toBe(3);
    const seal = await cli(['seal', '..', '--json']);
    expect(seal.code).toBe(1);
    expect(JSON.parse(seal.stderr)).toMatchObject({ error: { code: 'invalid_session_id' } });
  });

  it('ls --meta __proto__=x is refused, not run unfiltered', async () => {
    const r = await cli(['ls', '--meta', '__proto__=x', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'invalid_meta' } });
  });

  it('--json errors are machine-readable on stderr', async () => {
    const r = await cli(['show', 'no_such_session', '--json']);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'not_found' } });
  });

  it('1 when the server cannot be reached', async () => {
    const r = await runCli(['ls'], {
      env: { CAIRN_URL: 'http://127.0.0.1:9', CAIRN_TOKEN: 'x' },
      cwd: work,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach Cairn');
  });
});

describe('cairn rm, token, version', () => {
  it('rm deletes an artifact in an open session', async () => {
    const rec = await json(['push', 'output.json', '--session', 'tmp_rm']);
    const r = await cli(['rm', String(rec.id)]);
    expect(r.code).toBe(0);
    expect((await cli(['pull', String(rec.id), '-o', '-'])).code).toBe(3);
  });

  it('token create / ls / revoke, and a read token cannot push (exit 5)', async () => {
    const t = await json(['token', 'create', '--scope', 'read', '--name', 'viewer']);
    expect(String(t.token)).toMatch(/^cairn_/);
    const list = await json(['token', 'ls']);
    expect((list as unknown as { name: string }[]).map((x) => x.name)).toContain('viewer');
    const denied = await runCli(['push', 'output.json', '--session', 'x'], {
      env: { CAIRN_URL: server.url, CAIRN_TOKEN: String(t.token) },
      cwd: work,
    });
    expect(denied.code).toBe(5);
    expect((await cli(['token', 'revoke', String(t.id)])).code).toBe(0);
    const revoked = await runCli(['ls'], {
      env: { CAIRN_URL: server.url, CAIRN_TOKEN: String(t.token) },
      cwd: work,
    });
    expect(revoked.code).toBe(5);
  });

  it('version prints version, commit and node', async () => {
    const v = await json(['version']);
    expect(v).toMatchObject({ version: '0.1.0', node: process.version });
    expect(String(v.commit)).toMatch(/^[0-9a-f]{7,}|unknown$/);
  });
});
