import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { bulkArtifacts } from '../helpers/bulk-catalog.js';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { CLI, spawnServer, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { call } from '../mcp/tool-suite.js';
import { expensiveWheres } from './hostile-corpus.js';

// The attack of issue 19: a where= inside every limit that costs seconds at 10,000 artifacts.
const N = 10_000;
const [[, worst]] = expensiveWheres();

/** A server whose catalog holds N artifacts (written straight into its schema). */
async function seeded(queryTimeoutMs: number): Promise<TestServer> {
  const s = await startTestServer({ queryTimeoutMs });
  bulkArtifacts((s.app.catalog as SqliteCatalog).db, N, {
    metaOf: (i) => ({ agent: `a${i % 7}` }),
  });
  return s;
}

/**
 * Resolves once a read worker is running a query (polled between turns of the event loop), or
 * once `answer` has come (a query run on the thread serving HTTP is never seen running).
 */
async function queryRunning(s: TestServer, answer: Promise<unknown>): Promise<void> {
  let answered = false;
  void answer.finally(() => (answered = true));
  while ((s.app.catalog as SqliteCatalog).queriesRunning === 0 && !answered)
    await new Promise((r) => setImmediate(r));
}

const where = (w: string) => `/v1/artifacts?where=${encodeURIComponent(w)}`;

describe('a query costing seconds holds up nothing else', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await seeded(120_000); // no budget in the way: the query runs to its end
  });
  afterAll(async () => s.close());

  it('answers /healthz, a push and a cheap query while the worst where= runs', async () => {
    const order: string[] = [];
    const done = (what: string) => (res: Response) => {
      order.push(what);
      return res;
    };
    const slow = s.fetch(where(worst)).then(done('expensive query'));
    await queryRunning(s, slow);
    const health = await fetch(`${s.url}/healthz`).then(done('healthz'));
    const push = await s
      .fetch('/v1/sessions/live/artifacts/during.txt', { method: 'PUT', body: 'pushed meanwhile' })
      .then(done('push'));
    const cheap = await s.fetch('/v1/artifacts?session=live').then(done('cheap query'));
    const res = await slow;
    expect(order).toEqual(['healthz', 'push', 'cheap query', 'expensive query']);
    expect(health.status).toBe(200);
    expect(push.status).toBe(201);
    expect(((await cheap.json()) as { items: unknown[] }).items).toHaveLength(1);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items).toEqual([]);
  });
});

describe('a query past its budget', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await seeded(250); // the worst query costs seconds here
  });
  afterAll(async () => s.close());

  it.each(expensiveWheres())(
    '%s: 400 query_too_expensive, saying what to narrow',
    async (_n, w) => {
      const res = await s.fetch(where(w));
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(body.error.code).toBe('query_too_expensive');
      expect(body.error.message).toMatch(/session=/);
      expect(body.error.message).toMatch(/fewer where= terms/);
    },
  );

  it('is an isError result with the same code through the MCP query tool', async () => {
    const client = new Client({ name: 'cairn-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${s.token}` } },
      }),
    );
    try {
      const r = await call(client, 'query_artifacts', { where: worst });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/query_too_expensive/);
      expect(r.text).toMatch(/session=/);
    } finally {
      await client.close();
    }
  });

  it('leaves the pool answering: the next cheap query gets its rows', async () => {
    expect((await s.fetch(where(worst))).status).toBe(400);
    const ok = await s.fetch('/v1/artifacts?meta.agent=a3&limit=5');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { items: unknown[] }).items).toHaveLength(5);
  });
});

describe('cairn serve sets the budget', () => {
  it('from --query-timeout and from CAIRN_QUERY_TIMEOUT; a bad value is a usage error', async () => {
    const dir = tempDir('cairn-budget-');
    const catalog = SqliteCatalog.open({ dir, durability: 'process' });
    bulkArtifacts(catalog.db, N);
    await catalog.close();
    try {
      for (const [args, env] of [
        [['--query-timeout', '250ms'], {}],
        [[], { CAIRN_QUERY_TIMEOUT: '250ms' }],
      ] as const) {
        const server = await spawnServer(dir, [...args], env);
        try {
          const res = await fetch(server.url.replace(/\/$/, '') + where(worst), {
            headers: { Authorization: `Bearer ${server.token}` },
          });
          const body = (await res.json()) as { error: { code: string; message: string } };
          expect(res.status).toBe(400);
          expect(body.error.message).toContain('0.25 s budget');
        } finally {
          await server.stop();
        }
      }
      const bad = spawnSync(process.execPath, [
        CLI,
        'serve',
        '--data',
        dir,
        '--query-timeout',
        'soon',
      ]);
      expect(bad.status).toBe(2);
      expect(bad.stderr.toString()).toContain('--query-timeout');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
