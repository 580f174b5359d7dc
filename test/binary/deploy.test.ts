import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/server.js';
import {
  BINARY,
  bareEnv,
  ensureBinary,
  copyBinaryInto,
  startBinaryServer,
  type BinaryServer,
} from './binary-harness.js';

// The files a self-hoster copies next to the binary (deploy/) must be correct: the systemd unit
// passes `systemd-analyze verify`, and the binary started the way the unit and the Dockerfile
// start it (their environment, their command line) comes up and honors the sample config.

const DEPLOY = join(ROOT, 'deploy');
const unit = readFileSync(join(DEPLOY, 'cairn.service'), 'utf8');
const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');

let root: string;
const servers: BinaryServer[] = [];

beforeAll(() => {
  ensureBinary();
  root = tempDir('cairn-deploy-');
}, 900_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(root, { recursive: true, force: true });
});

/** KEY=VALUE lines of an environment file (systemd EnvironmentFile syntax, no quoting used). */
function envFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** The value of `Key=` in the unit (the only occurrence). */
function unitKey(key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(unit);
  if (!m) throw new Error(`deploy/cairn.service has no ${key}=`);
  return m[1];
}

describe('deploy/', () => {
  it('the systemd unit passes systemd-analyze verify', () => {
    const dir = join(root, 'verify');
    mkdirSync(dir);
    const local = unit
      .replaceAll(unitKey('ExecStart').split(' ')[0], BINARY)
      .replace(unitKey('EnvironmentFile'), join(DEPLOY, 'cairn.env'));
    writeFileSync(join(dir, 'cairn.service'), local);
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'cairn.service')], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    // Unknown keys and bad values are only warnings; there must be none.
    expect(r.stderr.split('\n').filter((l) => l.includes('cairn.service'))).toEqual([]);
  });

  it('started as the unit starts it, the binary serves with the sample config', async () => {
    const state = join(root, 'unit-state');
    const cache = join(root, 'unit-cache');
    mkdirSync(join(cache, 'cairn'), { recursive: true, mode: 0o700 });
    const unitEnv = Object.fromEntries(
      unitKey('Environment')
        .split(' ')
        .map((kv) => kv.replace('%S', state).replace('%C', cache).split('=')),
    ) as Record<string, string>;
    // EnvironmentFile= wins over Environment=, as in systemd; only the port is changed (0: free).
    const env = { ...unitEnv, ...envFile(readFileSync(join(DEPLOY, 'cairn.env'), 'utf8')) };
    const [, ...argv] = unitKey('ExecStart').split(' ');
    const args = argv.flatMap((a) =>
      a === '$CAIRN_SERVE_FLAGS' ? env.CAIRN_SERVE_FLAGS.split(/\s+/) : [a],
    );
    expect(env.CAIRN_HOST).toBe('127.0.0.1');
    const home = join(root, 'unit-home');
    mkdirSync(home);
    const bin = copyBinaryInto(join(root, 'unit-bin'));
    const server = await startBinaryServer(bin, {
      cwd: '/',
      env: bareEnv(home, { ...env, CAIRN_PORT: '0' }),
      dataDir: join(state, 'cairn'),
      args,
    });
    servers.push(server);
    const auth = { Authorization: `Bearer ${server.token}` };
    const push = await fetch(`${server.url}/v1/sessions/deploy/artifacts/a.txt`, {
      method: 'PUT',
      headers: auth,
      body: 'hello',
    });
    expect(push.status).toBe(201);
    const rec = (await push.json()) as { id: string; expires_at: string; created_at: string };
    // --default-ttl 30d from CAIRN_SERVE_FLAGS
    const ttl = Date.parse(rec.expires_at) - Date.parse(rec.created_at);
    expect(ttl).toBe(30 * 86_400_000);
    const share = await fetch(`${server.url}/v1/artifacts/${rec.id}/share`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{}',
    });
    // --public-url from CAIRN_SERVE_FLAGS
    expect(((await share.json()) as { url: string }).url).toMatch(
      /^https:\/\/cairn\.example\.internal\/s\//,
    );
    // The native binding went to the unit's CacheDirectory, not to HOME.
    expect(readdirSync(join(cache, 'cairn'))).toHaveLength(1);
    expect(readdirSync(home)).toEqual([]);
  });

  it("started with the Dockerfile's environment and command, the binary serves", async () => {
    const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)?.[1] ?? '';
    const env = envFile(envBlock.replace(/\\\n/g, '\n'));
    expect(Object.keys(env).sort()).toEqual([
      'CAIRN_DATA',
      'CAIRN_HOST',
      'CAIRN_NATIVE_DIR',
      'CAIRN_PORT',
    ]);
    const entry = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    expect(entry).toEqual(['/usr/local/bin/cairn']);
    expect(dockerfile).toMatch(/^COPY .*dist\/cairn \/usr\/local\/bin\/cairn$/m);
    // Paths moved into the temp dir; the address kept on loopback with a free port.
    const data = join(root, 'docker-data');
    const home = join(root, 'docker-home');
    mkdirSync(home);
    const server = await startBinaryServer(copyBinaryInto(join(root, 'docker-bin')), {
      cwd: '/',
      env: bareEnv(home, {
        ...env,
        CAIRN_DATA: data,
        CAIRN_NATIVE_DIR: join(root, 'docker-native'),
        CAIRN_HOST: '127.0.0.1',
        CAIRN_PORT: '0',
      }),
      dataDir: data,
      args: cmd,
    });
    servers.push(server);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(readdirSync(join(root, 'docker-native'))).toHaveLength(1);
  });
});
