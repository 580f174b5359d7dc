import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lineage, LineageNode } from '../../src/core/lineage.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

async function push(sid: string, name: string, from: string[] = []): Promise<string> {
  const q = from.map((id) => `derived_from=${id}`).join('&');
  const res = await s.fetch(`/v1/sessions/${sid}/artifacts/${name}${q ? `?${q}` : ''}`, {
    method: 'PUT',
    body: `${sid}/${name}`,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const lineage = async (id: string, q = '') =>
  (await (await s.fetch(`/v1/artifacts/${id}/lineage${q}`)).json()) as Lineage;

/** `session/name` per node, nested as [label, children]. */
const shape = (nodes: LineageNode[]): unknown[] =>
  nodes.map((n) =>
    n.missing
      ? `missing:${n.id}`
      : [`${n.session}/${n.name}${n.repeated ? ' (again)' : ''}`, shape(n.next)],
  );

describe('lineage across three sessions', () => {
  let raw: string, clean: string, report: string, chart: string;
  beforeAll(async () => {
    raw = await push('ingest', 'raw.csv');
    clean = await push('transform', 'clean.csv', [raw]);
    report = await push('publish', 'report.md', [clean, raw]);
    chart = await push('publish', 'chart.png', [clean]);
  });

  it('walks upstream transitively, marking a diamond instead of repeating it', async () => {
    const l = await lineage(report);
    expect(l.artifact.id).toBe(report);
    // derived_from is in id order (creation order): raw first, then clean whose parent is raw.
    expect(shape(l.upstream)).toEqual([
      ['ingest/raw.csv', []],
      ['transform/clean.csv', [['ingest/raw.csv (again)', []]]],
    ]);
    expect(l.downstream).toEqual([]);
  });

  it('walks downstream transitively', async () => {
    const l = await lineage(raw);
    expect(l.upstream).toEqual([]);
    expect(shape(l.downstream)).toEqual([
      [
        'transform/clean.csv',
        [
          ['publish/report.md', []],
          ['publish/chart.png', []],
        ],
      ],
      ['publish/report.md (again)', []],
    ]);
    expect(chart).toMatch(/^a_/);
  });

  it('bounds the depth and says where it cut', async () => {
    const l = await lineage(raw, '?depth=1');
    expect(l.truncated).toBe(true);
    expect(l.downstream[0].truncated).toBe(true);
    expect(l.downstream[0].next).toEqual([]);
    expect((await s.fetch(`/v1/artifacts/${raw}/lineage?depth=0`)).status).toBe(400);
    expect((await s.fetch(`/v1/artifacts/${raw}/lineage?depth=51`)).status).toBe(400);
  });

  it('shows a deleted parent as missing', async () => {
    const tmp = await push('scratch', 'tmp.txt');
    const child = await push('scratch2', 'child.txt', [tmp]);
    expect((await s.fetch(`/v1/artifacts/${tmp}`, { method: 'DELETE' })).status).toBe(200);
    expect(shape((await lineage(child)).upstream)).toEqual([`missing:${tmp}`]);
  });

  it('refuses unknown and malformed derived_from ids with a 400 (no dangling edge)', async () => {
    for (const bad of ['a_00000000000000000000000000', 'not-an-id']) {
      const res = await s.fetch(`/v1/sessions/x/artifacts/y.txt?derived_from=${bad}`, {
        method: 'PUT',
        body: 'y',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'invalid_derived_from',
      );
    }
    expect((await s.fetch('/v1/sessions/x')).status).toBe(404);
  });

  it('404s for an unknown artifact', async () => {
    expect((await s.fetch('/v1/artifacts/a_00000000000000000000000000/lineage')).status).toBe(404);
  });
});
