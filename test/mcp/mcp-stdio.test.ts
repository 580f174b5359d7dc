import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { runCli } from '../helpers/cli.js';
import { call, runToolSuite } from './tool-suite.js';

let server: ServerProcess;
let dataDir: string;
let dir: string;
let other: string;
let outside: string;
let client: Client;

/** Spawns the real `node bin/cairn.js mcp` against the real server and connects the SDK client. */
async function connectStdio(args: string[], cwd: string): Promise<Client> {
  const c = new Client({ name: 'cairn-test', version: '1.0.0' });
  await c.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', ...args],
      cwd,
      env: { PATH: process.env.PATH ?? '', CAIRN_URL: server.url, CAIRN_TOKEN: server.token },
      stderr: 'pipe',
    }),
  );
  return c;
}

beforeAll(async () => {
  dataDir = tempDir('cairn-mcp-data-');
  dir = tempDir('cairn-mcp-allowed-');
  other = tempDir('cairn-mcp-other-');
  outside = tempDir('cairn-mcp-outside-');
  server = await spawnServer(dataDir);
  client = await connectStdio(['--allow-path', dir, '--allow-path', other], outside);
}, 30_000);
afterAll(async () => {
  await client?.close();
  await server?.stop();
  for (const d of [dataDir, dir, other, outside]) rmSync(d, { recursive: true, force: true });
});

describe('MCP over stdio (cairn mcp)', () => {
  runToolSuite('stdio', () => ({ client, dir, url: server.url }));

  describe('path confinement', () => {
    it('refuses a file outside the allowed directories, naming them', async () => {
      writeFileSync(join(outside, 'secret.txt'), 'secret');
      const r = await call(client, 'push_file', {
        session: 'conf_1',
        path: join(outside, 'secret.txt'),
      });
      expect(r.isError).toBe(true);
      expect(r.structured.error?.code).toBe('path_not_allowed');
      expect(r.text).toContain(dir);
      expect(r.text).toContain(other);
    });

    it('refuses ../ escapes and a symlink inside that points outside', async () => {
      writeFileSync(join(outside, 'secret.txt'), 'secret');
      symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.txt'));
      symlinkSync(outside, join(dir, 'linkdir'));
      for (const path of [
        join(dir, '..', 'x', 'secret.txt'),
        'link.txt',
        join(dir, 'linkdir', 'secret.txt'),
      ]) {
        const r = await call(client, 'push_file', { session: 'conf_1', path });
        expect(r.structured.error?.code, path).toBe('path_not_allowed');
      }
      // Writing through the linked directory is refused too; nothing lands outside.
      await call(client, 'push_artifact', { session: 'conf_1', name: 'p.txt', text: 'pulled' });
      const w = await call(client, 'pull_artifact', {
        session: 'conf_1',
        name: 'p.txt',
        path: join(dir, 'linkdir', 'new', 'p.txt'),
      });
      expect(w.structured.error?.code).toBe('path_not_allowed');
      expect(existsSync(join(outside, 'new'))).toBe(false);
      const w2 = await call(client, 'pull_artifact', {
        session: 'conf_1',
        name: 'p.txt',
        path: join(outside, 'p.txt'),
      });
      expect(w2.structured.error?.code).toBe('path_not_allowed');
      expect(existsSync(join(outside, 'p.txt'))).toBe(false);
    });

    it('accepts the second allowed directory; a missing file is file_not_found', async () => {
      writeFileSync(join(other, 'ok.txt'), 'ok');
      const r = await call(client, 'push_file', { session: 'conf_1', path: join(other, 'ok.txt') });
      expect(r.isError, r.text).toBe(false);
      const missing = await call(client, 'push_file', { session: 'conf_1', path: 'nope.txt' });
      expect(missing.structured.error?.code).toBe('file_not_found');
    });

    it('without --allow-path the file tools are off, and the error names --allow-path', async () => {
      const c = await connectStdio([], other);
      try {
        // Not even the working directory: started from / or $HOME it would be the whole disk.
        for (const path of ['ok.txt', join(other, 'ok.txt'), '/etc/hostname']) {
          const no = await call(c, 'push_file', { session: 'conf_2', path });
          expect(no.structured.error?.code, path).toBe('path_not_allowed');
          expect(no.text).toMatch(/--allow-path DIR/);
          expect(no.text).not.toMatch(/--mcp-allow-path/);
        }
        await call(c, 'push_artifact', { session: 'conf_2', name: 'p.txt', text: 'p' });
        const w = await call(c, 'pull_artifact', {
          session: 'conf_2',
          name: 'p.txt',
          path: 'p.txt',
        });
        expect(w.structured.error?.code).toBe('path_not_allowed');
        expect(existsSync(join(other, 'p.txt'))).toBe(false);
      } finally {
        await c.close();
      }
    });
  });

  describe('context safety', () => {
    it('push_file and pull_artifact move a 24 MiB file (over the 10 MiB stdio message limit)', async () => {
      const big = randomBytes(24 * 1024 * 1024);
      const sha = createHash('sha256').update(big).digest('hex');
      mkdirSync(join(dir, 'big'), { recursive: true });
      writeFileSync(join(dir, 'big', 'blob.bin'), big);
      const pushed = await call(client, 'push_file', {
        session: 'big_1',
        path: join(dir, 'big', 'blob.bin'),
      });
      expect(pushed.isError, pushed.text).toBe(false);
      expect(pushed.structured).toMatchObject({ size: big.length, sha256: sha });
      const pulled = await call(client, 'pull_artifact', {
        id: pushed.structured.id,
        path: join(dir, 'big', 'back.bin'),
      });
      expect(pulled.isError, pulled.text).toBe(false);
      expect(
        createHash('sha256')
          .update(readFileSync(join(dir, 'big', 'back.bin')))
          .digest('hex'),
      ).toBe(sha);
      // Reading it back never puts the bytes into the conversation.
      const read = await call(client, 'read_artifact', { id: pushed.structured.id });
      expect(read.structured).toMatchObject({ binary: true, size: big.length });
      expect(JSON.stringify(read.content).length).toBeLessThan(4096);
    }, 60_000);
  });

  describe('errors', () => {
    it('a missing --allow-path / --mcp-allow-path directory stops the process at start (usage)', async () => {
      const missing = join(outside, 'missing-dir');
      for (const args of [
        ['mcp', '--allow-path', missing],
        ['serve', '--port', '0', '--data', join(outside, 'd'), '--mcp-allow-path', missing],
      ]) {
        const r = await runCli(args);
        expect(r.code, args[0]).toBe(2);
        expect(r.stderr).toContain(`allowed path '${missing}' does not exist`);
      }
    });

    it('an unreachable server is an isError result that says what to do', async () => {
      const c = new Client({ name: 't', version: '1' });
      await c.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [CLI, 'mcp'],
          cwd: other,
          env: { PATH: process.env.PATH ?? '', CAIRN_URL: 'http://127.0.0.1:9', CAIRN_TOKEN: 'x' },
          stderr: 'pipe',
        }),
      );
      try {
        const r = await call(c, 'list_sessions', {});
        expect(r.isError).toBe(true);
        expect(r.structured.error?.code).toBe('connection_failed');
        expect(r.text).toMatch(/cairn serve|CAIRN_URL/);
      } finally {
        await c.close();
      }
    });
  });
});
