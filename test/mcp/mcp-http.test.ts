import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { connectMcp } from './mcp-http-client.js';
import { call, runToolSuite } from './tool-suite.js';

let s: TestServer;
let dir: string;
let client: Client;

/** An SDK client connected to this file's server with `token`. */
const connect = (token: string) => connectMcp(s.url, token);

async function tokenOf(scope: string, sessions?: string): Promise<string> {
  const res = await s.fetch('/v1/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ scope, sessions }),
  });
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  dir = tempDir('cairn-mcp-files-');
  s = await startTestServer({ mcpAllowPaths: [dir] });
  client = await connect(s.token);
});
afterAll(async () => {
  await client?.close();
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MCP over Streamable HTTP at /mcp', () => {
  runToolSuite('http', () => ({ client, dir, url: s.url }));

  it('serves a client that negotiates the 2026-07-28 protocol (modern era) too', async () => {
    const modern = await connectMcp(
      s.url,
      s.token,
      { versionNegotiation: { mode: 'auto' } },
      'cairn-test-modern',
    );
    try {
      expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const r = await call(modern, 'push_artifact', {
        session: 'modern_1',
        name: 'm.txt',
        text: 'm',
      });
      expect(r.isError, r.text).toBe(false);
      const read = await call(modern, 'read_artifact', { session: 'modern_1', name: 'm.txt' });
      expect(read.structured.text).toBe('m');
    } finally {
      await modern.close();
    }
  });

  describe('tool calls carry the caller’s token scope', () => {
    it('a read token can read and query, but a push is a forbidden isError result', async () => {
      const reader = await connect(await tokenOf('read'));
      try {
        const q = await call(reader, 'query_artifacts', {});
        expect(q.isError).toBe(false);
        const p = await call(reader, 'push_artifact', { session: 'ro_1', name: 'a', text: 'x' });
        expect(p.isError).toBe(true);
        expect(p.structured.error?.code).toBe('forbidden');
        expect(p.text).toMatch(/scope/);
      } finally {
        await reader.close();
      }
    });

    it('a read token cannot write files on the server through pull_artifact', async () => {
      await call(client, 'push_artifact', { session: 'ro_files', name: 'x.txt', text: 'x' });
      const reader = await connect(await tokenOf('read'));
      try {
        const target = join(dir, 'written-by-reader.txt');
        const r = await call(reader, 'pull_artifact', {
          session: 'ro_files',
          name: 'x.txt',
          path: target,
        });
        expect(r.isError).toBe(true);
        expect(existsSync(target)).toBe(false);
      } finally {
        await reader.close();
      }
    });

    it("a token limited to run_* can't push elsewhere through MCP either", async () => {
      const limited = await connect(await tokenOf('write', 'run_*'));
      try {
        const ok = await call(limited, 'push_artifact', { session: 'run_9', name: 'a', text: 'x' });
        expect(ok.isError, ok.text).toBe(false);
        const no = await call(limited, 'push_artifact', {
          session: 'prod_9',
          name: 'a',
          text: 'x',
        });
        expect(no.structured.error?.code).toBe('forbidden');
      } finally {
        await limited.close();
      }
    });
    it('a token limited to run_* sees nothing of other sessions through MCP', async () => {
      const hidden = await s.fetch('/v1/sessions/prod_9r/artifacts/secret.txt', {
        method: 'PUT',
        body: 'secret',
      });
      const secret = (await hidden.json()) as { id: string };
      await s.fetch('/v1/sessions/run_9r/artifacts/open.txt', { method: 'PUT', body: 'open' });
      const limited = await connect(await tokenOf('read', 'run_*'));
      try {
        const found = await call(limited, 'query_artifacts', { limit: 100 });
        const items = found.structured.items as { session: string }[];
        expect(items.map((i) => i.session)).toContain('run_9r');
        expect(
          items.every((i) => i.session.startsWith('run_')),
          found.text,
        ).toBe(true);
        const sessions = await call(limited, 'list_sessions', {});
        const ids = (sessions.structured.items as { id: string }[]).map((i) => i.id);
        expect(ids).toContain('run_9r');
        expect(
          ids.every((id) => id.startsWith('run_')),
          sessions.text,
        ).toBe(true);
        for (const [tool, args] of [
          ['read_artifact', { id: secret.id }],
          ['read_artifact', { session: 'prod_9r', name: 'secret.txt' }],
          ['get_session', { session: 'prod_9r' }],
        ] as const) {
          const no = await call(limited, tool, args);
          expect(no.structured.error?.code, `${tool} ${no.text}`).toBe('not_found');
          expect(no.text).not.toContain('secret\n');
        }
      } finally {
        await limited.close();
      }
    });
  });

  describe('file tools on the server', () => {
    it('move a 12 MiB file (over the 4 MiB HTTP message limit) without it entering a message', async () => {
      const big = randomBytes(12 * 1024 * 1024);
      writeFileSync(join(dir, 'big.bin'), big);
      const pushed = await call(client, 'push_file', { session: 'big_h', path: 'big.bin' });
      expect(pushed.isError, pushed.text).toBe(false);
      expect(pushed.structured.size).toBe(big.length);
      const pulled = await call(client, 'pull_artifact', {
        id: pushed.structured.id,
        path: 'back.bin',
      });
      expect(pulled.isError, pulled.text).toBe(false);
      expect(readFileSync(join(dir, 'back.bin')).equals(big)).toBe(true);
    }, 60_000);

    it('never touch the data directory, even under an allowed directory', async () => {
      const root = tempDir('cairn-mcp-root-');
      const s2 = await startTestServer({ dataDir: join(root, 'data'), mcpAllowPaths: [root] });
      const c = await connectMcp(s2.url, s2.token);
      try {
        const r = await call(c, 'push_file', {
          session: 'x_1',
          path: join(root, 'data', 'admin.token'),
        });
        expect(r.structured.error?.code).toBe('path_not_allowed');
      } finally {
        await c.close();
        await s2.close();
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('are off without --mcp-allow-path', async () => {
      const s3 = await startTestServer();
      const c = await connectMcp(s3.url, s3.token);
      try {
        const r = await call(c, 'push_file', { session: 'x_1', path: '/etc/hostname' });
        expect(r.isError).toBe(true);
        expect(r.structured.error?.code).toBe('path_not_allowed');
        expect(r.text).toMatch(/cairn serve` with --mcp-allow-path DIR/);
      } finally {
        await c.close();
        await s3.close();
      }
    });
  });
});
