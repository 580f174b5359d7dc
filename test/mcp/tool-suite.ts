import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';

/** What a transport under test hands the shared suite. */
export interface McpFixture {
  client: Client;
  /** A directory the file tools may use (an --allow-path root). */
  dir: string;
  /** The Cairn server's base URL (for share links). */
  url: string;
}

/** The tools exactly as issue 6 names them. */
export const TOOL_NAMES = [
  'get_session',
  'list_sessions',
  'pull_artifact',
  'push_artifact',
  'push_file',
  'query_artifacts',
  'read_artifact',
  'seal_session',
  'share_artifact',
];

type Structured = Record<string, unknown> & {
  error?: { code: string; message: string; next_step?: string };
};

/** Calls a tool and returns its result with typed structured content. */
export async function call(client: Client, name: string, args: Record<string, unknown>) {
  const res = await client.callTool({ name, arguments: args });
  return {
    isError: res.isError === true,
    structured: (res.structuredContent ?? {}) as Structured,
    content: res.content as { type: string; text?: string; uri?: string; size?: number }[],
    text: (res.content as { type: string; text?: string }[])
      .filter((c) => c.type === 'text')
      .map((c) => c.text)
      .join('\n'),
  };
}

/**
 * The shared suite both transports must pass (stdio via `cairn mcp`, Streamable HTTP via
 * `/mcp`): every tool, the resource template, and error results. `prefix` keeps session ids of
 * the two runs apart.
 */
export function runToolSuite(prefix: string, fixture: () => McpFixture): void {
  const sid = (s: string) => `${prefix}_${s}`;

  describe('the tool list', () => {
    it('has exactly the nine tools, each with a description, output schema and hints', async () => {
      const { tools } = await fixture().client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
      for (const t of tools) {
        expect(t.description?.length, t.name).toBeGreaterThan(80);
        expect(t.outputSchema?.type, t.name).toBe('object');
        expect(typeof t.annotations?.readOnlyHint, t.name).toBe('boolean');
        expect(typeof t.annotations?.destructiveHint, t.name).toBe('boolean');
        expect(typeof t.annotations?.idempotentHint, t.name).toBe('boolean');
      }
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      expect(byName.read_artifact.annotations?.readOnlyHint).toBe(true);
      expect(byName.query_artifacts.annotations?.readOnlyHint).toBe(true);
      expect(byName.push_artifact.annotations?.readOnlyHint).toBe(false);
      expect(byName.seal_session.annotations?.destructiveHint).toBe(true);
      expect(byName.seal_session.annotations?.idempotentHint).toBe(true);
      expect(byName.push_file.description).toContain(fixture().dir);
    });
  });

  describe('push, read, query', () => {
    it('push_artifact stores text with meta, versions and lineage', async () => {
      const { client } = fixture();
      const a = await call(client, 'push_artifact', {
        session: sid('run'),
        name: 'notes/plan.md',
        text: '# Plan\n',
        meta: { agent: 'claude', stage: 'draft' },
      });
      expect(a.isError, a.text).toBe(false);
      expect(a.structured).toMatchObject({
        session: sid('run'),
        name: 'notes/plan.md',
        version: 1,
        size: 7,
        content_type: 'text/markdown',
        meta: { agent: 'claude', stage: 'draft' },
      });
      const b = await call(client, 'push_artifact', {
        session: sid('run'),
        name: 'notes/plan.md',
        text: '# Plan v2\n',
        derived_from: [a.structured.id],
        ttl: '7d',
      });
      expect(b.structured).toMatchObject({ version: 2, derived_from: [a.structured.id] });
      expect(b.structured.expires_at).not.toBeNull();
    });

    it('push_artifact takes base64, and exactly one of text / content_base64', async () => {
      const { client } = fixture();
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]);
      const r = await call(client, 'push_artifact', {
        session: sid('run'),
        name: 'img/dot.png',
        content_base64: png.toString('base64'),
      });
      expect(r.structured).toMatchObject({ size: png.length, content_type: 'image/png' });
      for (const args of [{}, { text: 'x', content_base64: 'eA==' }]) {
        const bad = await call(client, 'push_artifact', {
          session: sid('run'),
          name: 'x',
          ...args,
        });
        expect(bad.isError).toBe(true);
        expect(bad.structured.error?.code).toBe('invalid_input');
      }
      const notB64 = await call(client, 'push_artifact', {
        session: sid('run'),
        name: 'x',
        content_base64: '%%%',
      });
      expect(notB64.structured.error?.code).toBe('invalid_input');
    });

    it('push_artifact refuses a __proto__ metadata key instead of dropping it', async () => {
      const { client } = fixture();
      const args = JSON.parse(
        `{"session":"${sid('protometa')}","name":"p.txt","text":"p","meta":{"__proto__":"x","a":"1"}}`,
      ) as Record<string, unknown>;
      const r = await call(client, 'push_artifact', args);
      expect(r.isError).toBe(true);
      expect(r.text).toContain('__proto__');
      const s = await call(client, 'get_session', { session: sid('protometa') });
      expect(s.structured.error?.code).toBe('not_found');
    });

    it('push_artifact refuses . and .. in names instead of reaching another route', async () => {
      const { client } = fixture();
      await call(client, 'push_artifact', { session: sid('victim'), name: 'a.txt', text: 'a' });
      for (const name of ['../pin', `a/../../../${sid('other')}/artifacts/evil.txt`, './x']) {
        const r = await call(client, 'push_artifact', { session: sid('victim'), name, text: 'x' });
        expect(r.isError, name).toBe(true);
        expect(r.structured.error?.code, name).toBe('invalid_name');
      }
      const victim = await call(client, 'get_session', { session: sid('victim') });
      expect(victim.structured).toMatchObject({ pinned: false, artifact_count: 1 });
      const other = await call(client, 'get_session', { session: sid('other') });
      expect(other.structured.error?.code).toBe('not_found');
    });

    it('read_artifact returns text inline in parts that join up, on UTF-8 boundaries', async () => {
      const { client } = fixture();
      const body = 'héllo wörld — ünïcödé ✓ '.repeat(40);
      await call(client, 'push_artifact', { session: sid('run'), name: 'u.txt', text: body });
      let offset = 0;
      let joined = '';
      let parts = 0;
      for (;;) {
        const r = await call(client, 'read_artifact', {
          session: sid('run'),
          name: 'u.txt',
          offset,
          max_bytes: 100,
        });
        expect(r.isError, r.text).toBe(false);
        expect(r.structured.bytes_returned as number).toBeLessThanOrEqual(100);
        joined += r.structured.text as string;
        parts++;
        if (r.structured.next_offset === null) {
          expect(r.text).toContain('end of artifact');
          break;
        }
        expect(r.text).toContain(`offset=${r.structured.next_offset as number}`);
        offset = r.structured.next_offset as number;
      }
      expect(joined).toBe(body);
      expect(parts).toBeGreaterThan(5);
    });

    it('read_artifact always moves forward, even with a window smaller than a character', async () => {
      const { client } = fixture();
      const body = 'café € done 𝄞!';
      await call(client, 'push_artifact', { session: sid('run'), name: 'tiny.txt', text: body });
      for (const maxBytes of [1, 2, 3]) {
        let offset: number | null = 0;
        let joined = '';
        for (let calls = 0; offset !== null; calls++) {
          expect(calls, `max_bytes ${maxBytes}`).toBeLessThan(Buffer.byteLength(body));
          const r = await call(client, 'read_artifact', {
            session: sid('run'),
            name: 'tiny.txt',
            offset,
            max_bytes: maxBytes,
          });
          const next = r.structured.next_offset as number | null;
          if (next !== null) expect(next).toBeGreaterThan(offset);
          joined += r.structured.text as string;
          offset = next;
        }
        expect(joined).toBe(body);
      }
    });

    it('read_artifact by id and version, with a safe default size', async () => {
      const { client } = fixture();
      const q = await call(client, 'query_artifacts', { session: sid('run'), name: 'notes/*' });
      const v1 = (q.structured.items as { id: string; version: number }[]).find(
        (i) => i.version === 1,
      );
      const byId = await call(client, 'read_artifact', { id: v1?.id });
      expect(byId.structured).toMatchObject({ text: '# Plan\n', version: 1, next_offset: null });
      const byVersion = await call(client, 'read_artifact', {
        session: sid('run'),
        name: 'notes/plan.md',
        version: 1,
      });
      expect(byVersion.structured.text).toBe('# Plan\n');
      const big = 'x'.repeat(200 * 1024);
      await call(client, 'push_artifact', { session: sid('run'), name: 'big.txt', text: big });
      const r = await call(client, 'read_artifact', { session: sid('run'), name: 'big.txt' });
      expect(r.structured.bytes_returned).toBe(64 * 1024);
      expect(r.structured.next_offset).toBe(64 * 1024);
    });

    it('read_artifact gives binary as a resource link with size and type, never base64', async () => {
      const { client } = fixture();
      const r = await call(client, 'read_artifact', { session: sid('run'), name: 'img/dot.png' });
      expect(r.isError).toBe(false);
      const link = r.content.find((c) => c.type === 'resource_link');
      expect(link).toMatchObject({
        uri: `cairn://sessions/${sid('run')}/artifacts/img%2Fdot.png`,
        size: 9,
      });
      expect(r.structured).toMatchObject({ binary: true, content_type: 'image/png', size: 9 });
      expect(r.structured.text).toBeUndefined();
    });

    it('query_artifacts filters on the server, then limits, and says when there are more', async () => {
      const { client } = fixture();
      for (let i = 0; i < 5; i++)
        await call(client, 'push_artifact', {
          session: sid('q'),
          name: `r${i}.json`,
          text: `{"i":${i}}`,
          meta: { score: String(i / 4), agent: i % 2 ? 'claude' : 'gpt' },
        });
      const all = await call(client, 'query_artifacts', { session: sid('q') });
      expect(all.structured).toMatchObject({ count: 5, has_more: false });
      const two = await call(client, 'query_artifacts', { session: sid('q'), limit: 2 });
      expect(two.structured).toMatchObject({ count: 2, has_more: true });
      expect(two.text).toContain('more match');
      const meta = await call(client, 'query_artifacts', {
        session: sid('q'),
        meta: { agent: 'claude' },
      });
      expect(meta.structured.count).toBe(2);
      const where = await call(client, 'query_artifacts', {
        session: sid('q'),
        where: "agent = 'gpt' and score >= 0.5",
        type: 'application/json',
      });
      expect((where.structured.items as { name: string }[]).map((i) => i.name).sort()).toEqual([
        'r2.json',
        'r4.json',
      ]);
      const bad = await call(client, 'query_artifacts', { where: 'score >>> 1' });
      expect(bad.isError).toBe(true);
      expect(bad.structured.error?.code).toBe('invalid_where');
    });

    it('list_sessions and get_session', async () => {
      const { client } = fixture();
      const list = await call(client, 'list_sessions', { sealed: false });
      const ids = (list.structured.items as { id: string }[]).map((s) => s.id);
      expect(ids).toContain(sid('q'));
      const s = await call(client, 'get_session', { session: sid('q') });
      expect(s.structured).toMatchObject({
        id: sid('q'),
        sealed: false,
        artifact_count: 5,
        artifacts_truncated: false,
      });
      expect((s.structured.artifacts as unknown[]).length).toBe(5);
      const missing = await call(client, 'get_session', { session: sid('nope') });
      expect(missing.isError).toBe(true);
      expect(missing.structured.error?.code).toBe('not_found');
      expect(missing.text).toMatch(/query_artifacts|get_session/);
    });
  });

  describe('files, sharing, sealing, resources', () => {
    it('push_file and pull_artifact move bytes between disk and the store', async () => {
      const { client, dir } = fixture();
      const src = join(dir, 'in', 'data.csv');
      mkdirSync(join(dir, 'in'), { recursive: true });
      writeFileSync(src, 'a,b\n1,2\n');
      const pushed = await call(client, 'push_file', {
        session: sid('files'),
        path: src,
        meta: { kind: 'table' },
      });
      expect(pushed.isError, pushed.text).toBe(false);
      expect(pushed.structured).toMatchObject({
        name: 'data.csv',
        size: 8,
        meta: { kind: 'table' },
      });
      // Relative paths start at the first allowed directory; a new sub-directory is created.
      const pulled = await call(client, 'pull_artifact', {
        id: pushed.structured.id,
        path: 'out/copy.csv',
      });
      expect(pulled.isError, pulled.text).toBe(false);
      expect(readFileSync(join(dir, 'out', 'copy.csv'), 'utf8')).toBe('a,b\n1,2\n');
      // An existing directory receives the file under its base name.
      const intoDir = await call(client, 'pull_artifact', {
        session: sid('files'),
        name: 'data.csv',
        path: join(dir, 'out'),
      });
      expect(intoDir.structured.path).toBe(join(dir, 'out', 'data.csv'));
      expect(readFileSync(join(dir, 'out', 'data.csv'), 'utf8')).toBe('a,b\n1,2\n');
    });

    it('share_artifact returns a link that downloads without a token', async () => {
      const { client } = fixture();
      const r = await call(client, 'share_artifact', {
        session: sid('run'),
        name: 'notes/plan.md',
        ttl: '1h',
      });
      expect(r.isError, r.text).toBe(false);
      expect(r.structured.url).toMatch(/\/s\//);
      expect(r.structured.expires_at).toEqual(expect.any(String));
      const res = await fetch(r.structured.url as string);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('# Plan v2\n');
    });

    it('resources: the template, a listing, text and binary reads', async () => {
      const { client } = fixture();
      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toContain(
        'cairn://sessions/{sid}/artifacts/{name}',
      );
      const { resources } = await client.listResources();
      const uri = `cairn://sessions/${sid('run')}/artifacts/notes%2Fplan.md`;
      expect(resources.map((r) => r.uri)).toContain(uri);
      const text = await client.readResource({ uri });
      expect(text.contents[0]).toMatchObject({ text: '# Plan v2\n', mimeType: 'text/markdown' });
      const bin = await client.readResource({
        uri: `cairn://sessions/${sid('run')}/artifacts/img%2Fdot.png`,
      });
      const blob = (bin.contents[0] as { blob: string }).blob;
      expect(Buffer.from(blob, 'base64')).toEqual(
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255]),
      );
      await expect(
        client.readResource({ uri: `cairn://sessions/${sid('run')}/artifacts/missing` }),
      ).rejects.toThrow(/missing/);
    });

    it('seal_session seals (idempotently); a push into a sealed session is an isError result', async () => {
      const { client } = fixture();
      const s = await call(client, 'seal_session', { session: sid('run') });
      expect(s.isError, s.text).toBe(false);
      expect(s.structured).toMatchObject({ id: sid('run'), sealed: true });
      expect(s.structured.digest).toMatch(/^[0-9a-f]{64}$/);
      const again = await call(client, 'seal_session', { session: sid('run') });
      expect(again.structured.digest).toBe(s.structured.digest);
      const denied = await call(client, 'push_artifact', {
        session: sid('run'),
        name: 'late.txt',
        text: 'too late',
      });
      expect(denied.isError).toBe(true);
      expect(denied.structured.error?.code).toBe('session_sealed');
      expect(denied.text).toContain('session_sealed');
      expect(denied.text).toMatch(/new session/);
    });
  });
}
