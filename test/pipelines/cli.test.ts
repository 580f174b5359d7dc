import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { forgeResigned } from '../helpers/forge-export.js';
import { CLI, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let a: TestServer;
let b: TestServer;
let dir: string;
const envA = () => ({ CAIRN_URL: a.url, CAIRN_TOKEN: a.token });
const envB = () => ({ CAIRN_URL: b.url, CAIRN_TOKEN: b.token });

beforeAll(async () => {
  [a, b] = await Promise.all([startTestServer(), startTestServer()]);
  dir = tempDir();
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function pushCli(file: string, body: string, session: string, extra: string[] = []) {
  writeFileSync(join(dir, file), body);
  const r = await runCli(['push', file, '--session', session, '--json', ...extra], {
    env: envA(),
    cwd: dir,
  });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { id: string } | { id: string }[];
  return Array.isArray(out) ? out[0].id : out.id;
}

describe('cairn wait', () => {
  it('exits 6 at the timeout', async () => {
    const r = await runCli(['wait', 'cli-never', '--timeout', '300ms'], { env: envA() });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('not sealed within 300ms');
    const j = await runCli(['wait', 'cli-never', '--timeout', '300ms', '--json'], { env: envA() });
    expect(j.code).toBe(6);
    expect(JSON.parse(j.stderr)).toMatchObject({ error: { code: 'timeout' } });
  });

  it('events --count takes a whole number from 1', async () => {
    for (const n of ['abc', '0', '1.5']) {
      const r = await runCli(['events', '--count', n], { env: envA() });
      expect(r.code, n).toBe(2);
      expect(r.stderr).toContain('--count must be a whole number');
    }
  });

  it('started before the session exists, exits 0 once it is sealed', async () => {
    const waiting = runCli(['wait', 'cli-later', '--timeout', '60s'], { env: envA() });
    while (a.app.metrics.value('cairn_open_waiters') < 1)
      await new Promise((r) => setTimeout(r, 20));
    await a.fetch('/v1/sessions/cli-later/artifacts/x.txt', { method: 'PUT', body: 'x' });
    await a.fetch('/v1/sessions/cli-later/seal', { method: 'POST' });
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sealed cli-later\ndigest [0-9a-f]{64}\n$/);
  });

  it('refuses a malformed timeout as a usage error', async () => {
    expect((await runCli(['wait', 'x', '--timeout', 'soon'], { env: envA() })).code).toBe(2);
  });
});

describe('cairn events', () => {
  it('prints a session’s events as they happen', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'events', '--session', 'cli-ev', '--count', '2', '--json'],
      {
        env: { ...process.env, ...envA() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    while (a.app.metrics.value('cairn_open_event_streams') < 1)
      await new Promise((r) => setTimeout(r, 20));
    await a.fetch('/v1/sessions/cli-ev/artifacts/one.txt', { method: 'PUT', body: '1' });
    await a.fetch('/v1/sessions/cli-ev/seal', { method: 'POST' });
    expect(await exited).toBe(0);
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; session: string });
    expect(events.map((e) => e.type)).toEqual(['artifact.created', 'session.sealed']);
    expect(events.every((e) => e.session === 'cli-ev')).toBe(true);
  });
});

describe('cairn push --from and cairn lineage', () => {
  it('records lineage across sessions and draws it as a tree', async () => {
    const raw = await pushCli('raw.csv', 'a,b\n', 'cli-l1');
    const clean = await pushCli('clean.csv', 'a\n', 'cli-l2', ['--from', raw]);
    const report = await pushCli('report.md', '# r', 'cli-l3', ['--from', clean, '--from', raw]);
    const r = await runCli(['lineage', raw], { env: envA() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        `cli-l1/raw.csv v1  ${raw}`,
        'derived from:',
        '  (none)',
        'used by:',
        `├── cli-l2/clean.csv v1  ${clean}`,
        `│   └── cli-l3/report.md v1  ${report}`,
        `└── cli-l3/report.md v1  ${report} (shown above)`,
        '',
      ].join('\n'),
    );
    const up = await runCli(['lineage', report, '--json'], { env: envA() });
    const tree = JSON.parse(up.stdout) as { upstream: { id: string; next: { id: string }[] }[] };
    expect(tree.upstream.map((n) => n.id)).toEqual([raw, clean]);
    expect(tree.upstream[1].next.map((n) => n.id)).toEqual([raw]);
    const bad = await runCli(
      ['push', 'raw.csv', '--session', 'cli-l4', '--from', 'a_00000000000000000000000000'],
      {
        env: envA(),
        cwd: dir,
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not a known artifact id');
  });
});

describe('cairn ls --where', () => {
  it('filters with the expression language', async () => {
    await pushCli('s1.json', '{}', 'cli-q', ['--meta', 'agent=claude', 'score=0.95']);
    await pushCli('s2.json', '{}', 'cli-q', ['--meta', 'agent=claude', 'score=0.5']);
    const r = await runCli(
      ['ls', '--session', 'cli-q', '--where', "agent = 'claude' and score >= 0.9", '--json'],
      {
        env: envA(),
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(
      (JSON.parse(r.stdout) as { items: { name: string }[] }).items.map((i) => i.name),
    ).toEqual(['s1.json']);
    const badExpr = await runCli(['ls', '--where', 'score >='], { env: envA() });
    expect(badExpr.code).toBe(1);
    expect(badExpr.stderr).toContain('at position 9');
  });
});

describe('cairn export → import → verify between two servers', () => {
  let tarFile: string;
  beforeAll(async () => {
    await pushCli('data.csv', 'x,y\n1,2\n', 'cli-x', ['--meta', 'stage=final']);
    await pushCli('notes.md', '# notes', 'cli-x');
    expect((await runCli(['seal', 'cli-x'], { env: envA() })).code).toBe(0);
    tarFile = join(dir, 'cli-x.tar');
    const r = await runCli(['export', 'cli-x', '-o', tarFile], { env: envA() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`exported cli-x to ${tarFile}`);
  });

  it('imports on the other server, idempotently, and verifies there', async () => {
    const imp = await runCli(['import', tarFile], { env: envB() });
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(
      /^imported cli-x: 2 artifact\(s\), .*, sealed \(digest [0-9a-f]{64}\)\n$/,
    );
    const again = await runCli(['import', tarFile], { env: envB() });
    expect(again.stdout).toBe('cli-x was already imported; nothing changed\n');
    const v = await runCli(['verify', 'cli-x'], { env: envB() });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('a key from another server (imported)');
    expect(v.stdout).toContain('files     2 rehashed');
    expect(v.stdout).toContain('OK: signature, digest and every byte match');
  });

  it('verifies a tar file, optionally against a trusted key', async () => {
    const keyFile = join(dir, 'a.pem');
    const keys = (await (await a.fetch('/v1/keys')).json()) as {
      keys: { public_key_pem: string }[];
    };
    writeFileSync(keyFile, keys.keys[0].public_key_pem);
    const ok = await runCli(['verify', tarFile, '--key', keyFile]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const otherKey = join(dir, 'b.pem');
    const bKeys = (await (await b.fetch('/v1/keys')).json()) as {
      keys: { public_key_pem: string }[];
    };
    writeFileSync(otherKey, bKeys.keys[0].public_key_pem);
    const wrong = await runCli(['verify', tarFile, '--key', otherKey]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('MISMATCH  key: signed by key');
    // Changed bytes, re-signed by another key shipped under the trusted key's id.
    const forged = join(dir, 'resigned.tar');
    writeFileSync(forged, await forgeResigned(readFileSync(tarFile), 'files/data.csv', 'a,b\n'));
    const fake = await runCli(['verify', forged, '--key', keyFile]);
    expect(fake.code, fake.stdout).toBe(1);
    expect(fake.stdout).toContain('MISMATCH  key: the export names key');
    expect(fake.stdout).not.toContain('OK:');
  });

  it('says exactly which file does not match when a byte was changed', async () => {
    const bytes = readFileSync(tarFile);
    const at = bytes.indexOf('x,y\n1,2');
    const tampered = Buffer.from(bytes);
    tampered[at] = 'z'.charCodeAt(0);
    const bad = join(dir, 'tampered.tar');
    writeFileSync(bad, tampered);
    const r = await runCli(['verify', bad, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      problems: { what: string; path?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ what: 'file', path: 'files/data.csv' }),
    ]);
    // The server refuses the same tampered tar and stores nothing.
    // Even where the session already exists (the idempotent path), the bytes are checked.
    const imp = await runCli(['import', bad], { env: envA() });
    expect(imp.code).toBe(1);
    expect(imp.stderr).toContain("the bytes of 'files/data.csv' do not hash to");
    const fresh = await startTestServer();
    try {
      const r2 = await runCli(['import', bad], {
        env: { CAIRN_URL: fresh.url, CAIRN_TOKEN: fresh.token },
      });
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain("the bytes of 'files/data.csv' do not hash to");
      expect((await fresh.fetch('/v1/sessions/cli-x')).status).toBe(404);
    } finally {
      await fresh.close();
    }
  });

  it('reports a tampered digest in the document', async () => {
    const bytes = readFileSync(tarFile).toString('latin1');
    const m = /"digest": "([0-9a-f]{64})"/.exec(bytes) as RegExpExecArray;
    const forged = bytes.replace(
      m[1],
      m[1].replace(/^./, (c) => (c === '0' ? '1' : '0')),
    );
    const file = join(dir, 'forged.tar');
    writeFileSync(file, Buffer.from(forged, 'latin1'));
    const r = await runCli(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('MISMATCH  digest: recorded digest');
    expect(r.stdout).toContain('MISMATCH  signature: the signature does not verify');
  });
});
