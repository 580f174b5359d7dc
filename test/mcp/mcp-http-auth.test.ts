import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rawMcpPost } from './mcp-http-client.js';

// /mcp refuses what a browser-borne or unauthenticated caller sends before any tool runs.

let s: TestServer;
const rawPost = (headers: Record<string, string>) => rawMcpPost(s.url, headers);

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

describe('MCP over Streamable HTTP at /mcp', () => {
  describe('auth and DNS rebinding protection', () => {
    it('401 without a token, with the Cairn error envelope', async () => {
      const r = await rawPost({});
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'unauthorized' } });
    });

    it('401 with a wrong token', async () => {
      const r = await rawPost({ Authorization: 'Bearer cairn_not_a_real_token' });
      expect(r.status).toBe(401);
    });

    it('403 for a foreign Host header, even with a valid token', async () => {
      const r = await rawPost({ Authorization: `Bearer ${s.token}`, Host: 'evil.example.com' });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
    });

    it('403 for a foreign Origin header', async () => {
      const r = await rawPost({
        Authorization: `Bearer ${s.token}`,
        Origin: 'http://evil.example.com',
      });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'origin_not_allowed' } });
    });

    it('403 for an Origin that is an IP address other than the host', async () => {
      const port = new URL(s.url).port;
      const r = await rawPost({
        Authorization: `Bearer ${s.token}`,
        Host: `127.0.0.1:${port}`,
        Origin: 'http://1.2.3.4',
      });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'origin_not_allowed' } });
      const ip = await rawPost({
        Authorization: `Bearer ${s.token}`,
        Host: `10.1.2.3:${port}`,
        Origin: `http://10.1.2.3:${port}`,
      });
      expect(ip.status).toBe(200);
    });

    it('accepts localhost and IP-literal hosts', async () => {
      const port = new URL(s.url).port;
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
        const r = await rawPost({
          Authorization: `Bearer ${s.token}`,
          Host: host,
          Origin: `http://${host}`,
        });
        expect(r.status, host).toBe(200);
      }
    });

    it('GET and DELETE /mcp answer 405 (stateless server)', async () => {
      for (const method of ['GET', 'DELETE']) {
        const res = await s.fetch('/mcp', { method, headers: { Accept: 'text/event-stream' } });
        expect(res.status, method).toBe(405);
        await res.body?.cancel();
      }
    });
  });
});
