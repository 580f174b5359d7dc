import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
import {
  bareEnv,
  ensureBinary,
  copyBinaryInto,
  runBinary,
  startBinaryServer,
  type BinaryServer,
} from './binary-harness.js';

// End-to-end smoke test of the single executable: built once by the real build script, then
// copied alone into an empty temp dir and run with PATH=/usr/bin:/bin and a fresh HOME, so
// nothing of the repository (no node_modules, no build/) can be reached from it.

const pkgVersion = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
    version: string;
  }
).version;

let root: string;
const servers: BinaryServer[] = [];

beforeAll(() => {
  ensureBinary();
  root = tempDir('cairn-binary-');
}, 900_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(root, { recursive: true, force: true });
});

/** A fresh empty dir holding only a copy of the binary, and a fresh HOME beside it. */
function sandbox(name: string): { dir: string; bin: string; home: string } {
  const dir = join(root, name);
  const home = join(root, `${name}-home`);
  mkdirSync(home, { recursive: true });
  return { dir, bin: copyBinaryInto(dir), home };
}

async function serve(s: { dir: string; bin: string; home: string }, env = {}) {
  const server = await startBinaryServer(s.bin, {
    cwd: s.dir,
    env: bareEnv(s.home, env),
    dataDir: join(s.dir, 'data'),
  });
  servers.push(server);
  return server;
}

describe('dist/cairn, copied alone into an empty directory', () => {
  it('prints its version, commit and the Node inside', async () => {
    const s = sandbox('version');
    const r = await runBinary(s.bin, ['version', '--json'], { cwd: s.dir, env: bareEnv(s.home) });
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as { version: string; commit: string; node: string };
    expect(v.version).toBe(pkgVersion);
    expect(v.commit).toMatch(/^[0-9a-f]{12}(-dirty)?$/);
    expect(v.node).toMatch(/^v22\./);
    // A client command never extracts the native binding.
    expect(readdirSync(s.home)).toEqual([]);
  });

  it('serves, pushes with metadata, queries, seals, pulls, shares, speaks MCP and serves the browse page', async () => {
    const s = sandbox('e2e');
    const server = await serve(s);
    const env = bareEnv(s.home, { CAIRN_URL: server.url, CAIRN_TOKEN: server.token });
    const run = (args: string[]) => runBinary(s.bin, args, { cwd: s.dir, env });
    const body = '{"total": 42}\n';
    writeFileSync(join(s.dir, 'output.json'), body);

    const push = await run([
      'push',
      'output.json',
      '--session',
      'run_42',
      '--meta',
      'agent=claude-sonnet',
      'pipeline=billing',
    ]);
    expect(push.code, push.stderr).toBe(0);

    const ls = await run(['ls', '--meta', 'agent=claude-sonnet', '--meta', 'pipeline=billing']);
    expect(ls.code, ls.stderr).toBe(0);
    // Queries run on the catalog's read workers, started from the script the binary carries.
    const w = await run(['ls', '--where', "pipeline = 'billing' or agent ~ 'gpt*'", '--json']);
    expect(w.code, w.stderr).toBe(0);
    expect((JSON.parse(w.stdout) as { items: unknown[] }).items).toHaveLength(1);
    const q = await run(['ls', '--meta', 'pipeline=billing', '--json']);
    const items = (JSON.parse(q.stdout) as { items: { name: string; meta: object }[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      name: 'output.json',
      meta: { agent: 'claude-sonnet', pipeline: 'billing' },
    });

    // A blob too large to keep inline goes to a file written with O_DIRECT and hashed on a
    // worker thread, whose script the binary carries inside itself.
    const large = randomBytes(3 * 1024 * 1024 + 11);
    writeFileSync(join(s.dir, 'weights.bin'), large);
    const pushLarge = await run(['push', 'weights.bin', '--session', 'run_42', '--json']);
    expect(pushLarge.code, pushLarge.stderr).toBe(0);
    expect((JSON.parse(pushLarge.stdout) as { sha256: string }).sha256).toBe(
      createHash('sha256').update(large).digest('hex'),
    );
    const pullLarge = await run(['pull', 'run_42/weights.bin', '-o', 'weights.copy']);
    expect(pullLarge.code, pullLarge.stderr).toBe(0);
    expect(readFileSync(join(s.dir, 'weights.copy')).equals(large)).toBe(true);

    const seal = await run(['seal', 'run_42', '--json']);
    expect(seal.code, seal.stderr).toBe(0);
    expect((JSON.parse(seal.stdout) as { digest: string }).digest).toMatch(/^[0-9a-f]{64}$/);
    const again = await run(['push', 'output.json', '--session', 'run_42']);
    expect(again.code).toBe(4);

    const pull = await run(['pull', 'run_42/output.json', '-o', 'pulled.json']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(join(s.dir, 'pulled.json'), 'utf8')).toBe(body);

    const share = await run(['share', 'run_42/output.json', '--ttl', '1h', '--json']);
    expect(share.code, share.stderr).toBe(0);
    const link = (JSON.parse(share.stdout) as { url: string }).url;
    const res = await fetch(link);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);

    // MCP over stdio: the SDK's own client spawns `cairn mcp` from the binary.
    const mcp = new Client({ name: 'cairn-binary-test', version: '1.0.0' });
    await mcp.connect(
      new StdioClientTransport({
        command: s.bin,
        args: ['mcp'],
        cwd: s.dir,
        env: env as Record<string, string>,
        stderr: 'pipe',
      }),
    );
    try {
      const tools = (await mcp.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(expect.arrayContaining(['push_artifact', 'query_artifacts']));
      const found = await mcp.callTool({
        name: 'query_artifacts',
        arguments: { meta: { pipeline: 'billing' } },
      });
      expect(found.isError).toBeFalsy();
      expect(JSON.stringify(found.structuredContent)).toContain('output.json');
    } finally {
      await mcp.close();
    }

    // The browse page and its assets are embedded (there is no file beside the binary).
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    const asset = /src="(\/ui\/assets\/app\.js[^"]*)"/.exec(await page.text())?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(1000);

    // The catalog's native binding was extracted once, into the fresh HOME's cache.
    const cached = readdirSync(join(s.home, '.cache', 'cairn', 'native'));
    expect(cached).toHaveLength(1);
    expect(cached[0]).toMatch(/^better_sqlite3-[0-9a-f]{32}\.node$/);
  });

  it('push DIR --sync sends only what changed; a flag yargs refuses exits 2', async () => {
    const s = sandbox('sync');
    const server = await serve(s);
    const env = bareEnv(s.home, { CAIRN_URL: server.url, CAIRN_TOKEN: server.token });
    const run = (args: string[]) => runBinary(s.bin, args, { cwd: s.dir, env });
    mkdirSync(join(s.dir, 'tree', 'sub'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(s.dir, 'tree', 'sub', `f${i}.txt`), `${i}\n`);
    expect((await run(['push', 'tree', '-s', 'sync_1'])).code).toBe(0);
    writeFileSync(join(s.dir, 'tree', 'sub', 'f3.txt'), 'changed\n');
    const again = await run(['push', 'tree', '-s', 'sync_1', '--sync', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { name: string }[]).map((a) => a.name)).toEqual([
      'sub/f3.txt',
    ]);
    expect(again.stderr).toContain('19 file(s) unchanged since the latest version');
    const usage = await run(['push', 'tree', '-s', 'sync_1', '--sync', '--bogus']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Unknown argument: bogus');
  });

  it('two copies started at once with an empty cache both come up', async () => {
    const a = sandbox('race-a');
    const b = { ...sandbox('race-b'), home: a.home };
    const [sa, sb] = await Promise.all([serve(a), serve(b)]);
    for (const s of [sa, sb]) {
      const res = await fetch(`${s.url}/v1/sessions`, {
        headers: { Authorization: `Bearer ${s.token}` },
      });
      expect(res.status).toBe(200);
    }
    // One cached file, no temp file left behind by the loser of the rename.
    expect(readdirSync(join(a.home, '.cache', 'cairn', 'native'))).toHaveLength(1);
  });

  it('CAIRN_NATIVE_DIR picks where the native binding goes, and a shared dir is refused', async () => {
    const s = sandbox('native-dir');
    const nativeDir = join(root, 'exec-ok');
    const server = await serve(s, { CAIRN_NATIVE_DIR: nativeDir });
    expect(readdirSync(nativeDir)).toHaveLength(1);
    expect(readdirSync(s.home)).toEqual([]);
    expect(await server.stop()).toBe(0);

    const open = join(root, 'world-writable');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await runBinary(s.bin, ['serve', '--port', '0', '--data', join(s.dir, 'data2')], {
      cwd: s.dir,
      env: bareEnv(s.home, { CAIRN_NATIVE_DIR: open }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/writable by other users.*CAIRN_NATIVE_DIR/s);
    expect(readdirSync(open)).toEqual([]);
  });
});
