import { rmSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/server/routes/index.js';
import { openApiPath, type OpenApiDoc } from '../../src/server/openapi.js';
import { spawnServer, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

/** The value of one sample line (`name{labels} value`) of a Prometheus exposition. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  expect(line, `${series} in /metrics`).toBeDefined();
  return Number((line as string).slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('reports pushes, bytes, dedupe hits, latency histograms, gauges and catalog size', async () => {
    for (const name of ['a.txt', 'b.txt'])
      await s.fetch(`/v1/sessions/m/artifacts/${name}`, { method: 'PUT', body: 'same bytes' });
    await s.fetch('/v1/artifacts?session=m');
    // Push counters follow the catalog's event stream, which a PostgreSQL catalog delivers a
    // moment after the commit (its doorbell): read until both pushes are counted.
    let res: Response;
    let text: string;
    for (let tries = 0; ; tries++) {
      res = await s.fetch('/metrics');
      text = await res.text();
      if (/^cairn_pushes_total 2$/m.test(text) || tries === 100) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'cairn_pushes_total')).toBe(2);
    expect(sample(text, 'cairn_pushed_bytes_total')).toBe(20);
    expect(sample(text, 'cairn_dedupe_hits_total')).toBe(1);
    expect(sample(text, 'cairn_catalog_artifacts')).toBe(2);
    expect(sample(text, 'cairn_catalog_blobs')).toBe(1);
    expect(sample(text, 'cairn_catalog_blob_bytes')).toBe(10);
    expect(sample(text, 'cairn_open_waiters')).toBe(0);
    expect(sample(text, 'cairn_open_event_streams')).toBe(0);
    expect(sample(text, 'cairn_query_duration_seconds_count')).toBe(1);
    expect(sample(text, 'cairn_query_duration_seconds_bucket{le="+Inf"}')).toBe(1);
    expect(
      sample(
        text,
        'cairn_http_requests_total{route="PUT /v1/sessions/:sid/artifacts/*name",status="2xx"}',
      ),
    ).toBe(2);
    expect(sample(text, 'cairn_http_received_bytes_total')).toBeGreaterThan(20);
    expect(sample(text, 'cairn_http_sent_bytes_total')).toBeGreaterThan(0);
    expect(text).toMatch(/# TYPE cairn_sweeper_runs_total counter/);
    expect(text).toMatch(/# TYPE cairn_http_request_duration_seconds histogram/);
    // Every sample line is `name{labels} number`.
    for (const line of text
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#')))
      expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/);
  });

  it('counts an upload the client abandoned as 4xx (499), not as a success', async () => {
    const series =
      'cairn_http_requests_total{route="PUT /v1/sessions/:sid/artifacts/*name",status="4xx"}';
    const before = (await (await s.fetch('/metrics')).text()).includes(`${series} `)
      ? sample(await (await s.fetch('/metrics')).text(), series)
      : 0;
    await new Promise<void>((resolve) => {
      const req = http.request(`${s.url}/v1/sessions/obs/artifacts/cut.bin`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${s.token}`, 'Content-Length': 1_000_000 },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(Buffer.alloc(1000), () => setTimeout(() => req.destroy(), 50));
    });
    await expect
      .poll(async () => sample(await (await s.fetch('/metrics')).text(), series))
      .toBe(before + 1);
  });

  it('needs a token like every non-public route', async () => {
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
  });
});

describe('GET /openapi.json', () => {
  it('describes exactly the routes of the route table', async () => {
    const doc = (await (await s.fetch('/openapi.json')).json()) as OpenApiDoc;
    expect(doc.openapi).toBe('3.1.0');
    const described = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const routes = allRoutes().map((r) => `${r.method} ${openApiPath(r.path)}`);
    expect(described.sort()).toEqual([...routes].sort());
    for (const r of allRoutes()) {
      const op = doc.paths[openApiPath(r.path)][r.method.toLowerCase()] as Record<string, unknown>;
      expect(op.summary).toBe(r.summary);
      expect(op['x-cairn-access']).toBe(r.access);
      expect(op.security).toEqual(r.access === 'public' ? [] : [{ bearer: [] }]);
    }
  });
});

describe('structured request logs (cairn serve --log)', () => {
  it('writes one JSON line per request with the request id echoed in X-Request-Id', async () => {
    const dir = tempDir();
    const p = await spawnServer(dir, ['--log']);
    let err = '';
    p.child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const res = await fetch(`${p.url}/v1/sessions/logged`, {
        headers: { Authorization: `Bearer ${p.token}`, 'X-Request-Id': 'req-abc.123' },
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBe('req-abc.123');
      const minted = await fetch(`${p.url}/healthz`, { headers: { 'X-Request-Id': 'bad id!' } });
      const id = minted.headers.get('x-request-id') as string;
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      const lines = () =>
        err
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      while (lines().filter((l) => l.id).length < 2) await new Promise((r) => setTimeout(r, 20));
      expect(lines()).toContainEqual(
        expect.objectContaining({
          level: 'info',
          id: 'req-abc.123',
          method: 'GET',
          path: '/v1/sessions/logged',
          status: 404,
        }),
      );
      expect(lines()).toContainEqual(
        expect.objectContaining({ id, path: '/healthz', status: 200 }),
      );
      // A share link's secret is a credential: the log masks it.
      const pushed = await fetch(`${p.url}/v1/sessions/logged/artifacts/f.txt`, {
        method: 'PUT',
        body: Buffer.from('x'),
        headers: { Authorization: `Bearer ${p.token}` },
      });
      const art = ((await pushed.json()) as { id: string }).id;
      const share = (await (
        await fetch(`${p.url}/v1/artifacts/${art}/share`, {
          method: 'POST',
          body: '{"ttl":"1h"}',
          headers: { Authorization: `Bearer ${p.token}`, 'Content-Type': 'application/json' },
        })
      ).json()) as { url: string };
      const secret = share.url.split('/s/')[1];
      expect((await fetch(share.url)).status).toBe(200);
      while (!lines().some((l) => l.path === '/s/…')) await new Promise((r) => setTimeout(r, 20));
      expect(err).not.toContain(secret);
    } finally {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
