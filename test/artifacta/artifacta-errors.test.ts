import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startArtifactaTestServer } from '../helpers/artifacta.js';
import { tempDir } from '../helpers/server.js';
import { ArtifactaClient } from './artifacta-client.js';

// The error codes that need a server configured for them; the others are in the other files.
describe('error codes of a configured server', () => {
  it('413 file_too_large: over 10 MB of JSON content, over the server maximum', async () => {
    const s = await startArtifactaTestServer({ maxSize: 1000 });
    try {
      const client = new ArtifactaClient(s.aUrl, s.key);
      const json = await client.store({
        filename: 'big.bin',
        content: Buffer.alloc(10 * 1024 * 1024 + 1),
      });
      expect(json.status).toBe(413);
      expect(json.body.error).toMatchObject({ code: 'file_too_large', status: 413 });
      const mp = await client.storeMultipart({ filename: 'big.bin' }, [
        Buffer.alloc(600),
        Buffer.alloc(600),
      ]);
      expect(mp.status).toBe(413);
      expect(mp.body.error?.code).toBe('file_too_large');
      const url = await client.uploadUrl({ filename: 'big.bin', size_bytes: 1001 });
      expect(url.body.error?.code).toBe('file_too_large');
      expect((await client.list()).body.artifacts).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('400 ttl_exceeds_plan_limit: past the server default TTL, or never', async () => {
    const s = await startArtifactaTestServer({ defaultTtlMs: 30 * 86_400_000 });
    try {
      const client = new ArtifactaClient(s.aUrl, s.key);
      for (const ttl of ['31d', 'never']) {
        const r = await client.store({ filename: 'a.txt', content: 'a', ttl });
        expect(r.status).toBe(400);
        expect(r.body.error?.code).toBe('ttl_exceeds_plan_limit');
      }
      expect((await client.store({ filename: 'a.txt', content: 'a', ttl: '30d' })).status).toBe(
        201,
      );
      const bad = await client.store({ filename: 'a.txt', content: 'a', ttl: 'soon' });
      expect(bad.body.error?.code).toBe('invalid_request');
    } finally {
      await s.close();
    }
  });

  it('429 rate_limited with Retry-After (header and body); a revoked key is 401', async () => {
    let now = Date.parse('2026-06-01T00:00:00Z');
    const s = await startArtifactaTestServer(
      { artifactaRateLimit: 1, artifactaRateBurst: 2 },
      { clock: () => now },
    );
    try {
      const client = new ArtifactaClient(s.aUrl, s.key);
      expect((await client.whoami()).body).toMatchObject({
        rate_limit_sustained: 1,
        rate_limit_burst: 2,
      });
      expect((await client.list()).status).toBe(200);
      const limited = await client.list();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.body.error).toMatchObject({
        code: 'rate_limited',
        status: 429,
        retry_after: 1,
      });
      now += 1000;
      expect((await client.list()).status).toBe(200);
      // Health needs no key and is never limited.
      expect((await fetch(`${s.aUrl}/health`)).status).toBe(200);
      const id = (
        (await (await s.fetch('/v1/tokens')).json()) as { items: { id: string; name: string }[] }
      ).items.find((t) => t.name === 'artifacta admin')?.id;
      expect((await s.fetch(`/v1/tokens/${id}`, { method: 'DELETE' })).status).toBe(200);
      now += 10_000;
      const revoked = await client.list();
      expect(revoked.status).toBe(401);
      expect(revoked.body.error?.code).toBe('unauthorized');
    } finally {
      await s.close();
    }
  });

  // Runs as root (CI does): a 3 MiB tmpfs as the data dir, so "full" is the kernel's ENOSPC.
  it('403 quota_exceeded when the disk is full; nothing half-written is listed', async () => {
    const mnt = tempDir('artifacta-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]);
    mkdirSync(join(mnt, 'data'));
    const s = await startArtifactaTestServer({ dataDir: join(mnt, 'data') });
    try {
      const client = new ArtifactaClient(s.aUrl, s.key);
      const r = await client.storeMultipart({ filename: 'huge.bin', session_id: 'full' }, [
        Buffer.alloc(2 * 1024 * 1024, 1),
        Buffer.alloc(2 * 1024 * 1024, 2),
      ]);
      expect(r.status).toBe(403);
      expect(r.body.error).toMatchObject({ code: 'quota_exceeded', status: 403 });
      expect((await client.list({ session_id: 'full' })).body.artifacts).toEqual([]);
    } finally {
      await s.close();
      execFileSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
