import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

// The several-nodes recipe in deploy/ (README "Several nodes") must be correct: the template
// unit passes systemd-analyze verify, the nginx config passes the real nginx's -t with either
// node list, and the real nginx with it spreads requests over two real Cairn nodes sharing one
// store, and keeps answering when one of them stops.

const DEPLOY = join(ROOT, 'deploy');
const read = (p: string) => readFileSync(join(DEPLOY, p), 'utf8');
const root = tempDir('cairn-deploy-nodes-');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** KEY=VALUE lines of an environment file. */
function envFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

/** A main nginx.conf under `dir` that includes deploy/nginx/cairn.conf with `upstream`. */
function nginxPrefix(name: string, upstream: string, site = read('nginx/cairn.conf')): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'cairn-upstream.conf'), upstream);
  writeFileSync(join(dir, 'cairn.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/${t};`)
    .join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\n` +
      `events { worker_connections 256; }\n` +
      `http {\n  access_log off;\n${temp}\n  include ${dir}/cairn.conf;\n}\n`,
  );
  return dir;
}

const nginxArgs = (dir: string) => ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

async function listening(port: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('deploy/ for several nodes', () => {
  it('the template unit passes systemd-analyze verify, one data dir and port per instance', () => {
    const unit = read('cairn@.service');
    const dir = join(root, 'units');
    mkdirSync(dir);
    const local = unit
      .replace('ExecStart=/usr/local/bin/cairn', `ExecStart=${process.execPath}`)
      .replace('EnvironmentFile=/etc/cairn/nodes.env', `EnvironmentFile=${DEPLOY}/nodes.env`);
    writeFileSync(join(dir, 'cairn@.service'), local);
    writeFileSync(join(dir, 'cairn@7071.service'), local);
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'cairn@7071.service')], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes('cairn@'))).toEqual([]);
    expect(unit).toMatch(/^Environment=CAIRN_DATA=%S\/cairn\/%i .*CAIRN_PORT=%i$/m);
    expect(unit).toMatch(/^StateDirectory=cairn\/%i$/m);
    // The shared file names the shared store and leaves what is per node to the unit
    // (EnvironmentFile= would override the unit's Environment=).
    const env = envFile(read('nodes.env'));
    expect(Object.keys(env).sort()).toEqual([
      'CAIRN_BLOBS',
      'CAIRN_CATALOG',
      'CAIRN_HOST',
      'CAIRN_SERVE_FLAGS',
    ]);
  });

  it.each(['upstream-systemd.conf', 'upstream-compose.conf'])(
    'nginx -t accepts the config with %s',
    (upstream) => {
      const dir = nginxPrefix(`t-${upstream}`, read(`nginx/${upstream}`));
      const r = spawnSync('nginx', ['-t', ...nginxArgs(dir)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('syntax is ok');
    },
  );

  it('compose.yaml runs three nodes on one store behind that nginx config', () => {
    const r = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
        join(DEPLOY, 'compose.yaml'),
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as {
      services: Record<
        string,
        {
          environment?: Record<string, string>;
          volumes?: string[];
          networks?: Record<string, { ipv4_address: string }>;
        }
      >;
    };
    const nodes = ['cairn-1', 'cairn-2', 'cairn-3'].map((n) => c.services[n]);
    for (const n of nodes) {
      expect(n.environment).toEqual(nodes[0].environment);
      expect(n.environment?.CAIRN_CATALOG).toMatch(/^postgres:\/\//);
      expect(n.environment?.CAIRN_BLOBS).toMatch(/^s3:\/\//);
    }
    // Each node its own data dir; the addresses are the ones the nginx node list names.
    expect(new Set(nodes.map((n) => n.volumes?.[0])).size).toBe(3);
    const upstream = read('nginx/upstream-compose.conf');
    for (const n of nodes) expect(upstream).toContain(`${n.networks?.cairn.ipv4_address}:7070`);
    const mounts = c.services.nginx.volumes ?? [];
    for (const m of mounts) {
      expect(() => readFileSync(join(DEPLOY, m.split(':')[0]))).not.toThrow();
    }
  });

  it('the real nginx spreads requests over two nodes on one store, and survives one stopping', async () => {
    // Two nodes sharing one catalog file and one blob directory (on one machine; across
    // machines, PostgreSQL and S3): the same admin token and seal key on both.
    const shared = tempDir();
    const nodes: TestServer[] = [];
    for (let i = 0; i < 2; i++) {
      nodes.push(
        await startTestServer({
          catalogUrl: `sqlite:${join(shared, 'catalog.db')}`,
          blobsUrl: `file:${shared}`,
        }),
      );
    }
    cleanups.push(async () => {
      for (const n of nodes) await n.close().catch(() => undefined);
    });
    expect(nodes[1].token).toBe(nodes[0].token);
    const port = await freePort();
    const upstream = read('nginx/upstream-systemd.conf')
      .replace('127.0.0.1:7071', `127.0.0.1:${new URL(nodes[0].url).port}`)
      .replace('127.0.0.1:7072', `127.0.0.1:${new URL(nodes[1].url).port}`)
      .replace(/^.*127\.0\.0\.1:7073.*\n/m, '');
    const site = read('nginx/cairn.conf').replace('listen 80;', `listen 127.0.0.1:${port};`);
    const dir = nginxPrefix('run', upstream, site);
    const nginx: ChildProcess = spawn('nginx', [...nginxArgs(dir), '-g', 'daemon off;'], {
      stdio: 'ignore',
    });
    cleanups.push(() => void nginx.kill('SIGTERM'));
    await listening(port);
    const lb = `http://127.0.0.1:${port}`;
    const auth = { Authorization: `Bearer ${nodes[0].token}` };

    expect(await (await fetch(`${lb}/healthz`)).json()).toMatchObject({ ok: true });
    // Pushes land on either node (least_conn), small ones inline, large ones as files; a
    // 3 MiB body passes nginx unbuffered and unlimited.
    const pushed: { id: string; body: Buffer }[] = [];
    for (let i = 0; i < 12; i++) {
      const body = randomBytes(i % 3 === 0 ? 3 * 1024 * 1024 : 1000 + i);
      const res = await fetch(`${lb}/v1/sessions/lb/artifacts/f${i}`, {
        method: 'PUT',
        headers: auth,
        body,
      });
      expect(res.status).toBe(201);
      pushed.push({ id: ((await res.json()) as { id: string }).id, body });
    }
    const readAll = async () => {
      for (const p of pushed) {
        const res = await fetch(`${lb}/v1/artifacts/${p.id}/content`, { headers: auth });
        expect(res.status).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(p.body)).toBe(true);
      }
    };
    await readAll();
    // One node stops: every request still gets its answer, from the other.
    await nodes[1].close();
    await readAll();
    expect(await (await fetch(`${lb}/healthz`)).json()).toMatchObject({ ok: true });
  }, 120_000);
});
