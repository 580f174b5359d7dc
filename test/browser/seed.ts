import { deflateSync } from 'node:zlib';
import type { ArtifactRecord } from '../../src/core/types.js';
import type { TestServer } from '../helpers/server.js';

/** Pushes bytes (content type from the name unless given) and returns the record. */
export async function push(
  s: TestServer,
  sid: string,
  name: string,
  body: string | Buffer,
  opts: { meta?: Record<string, string>; from?: string[]; type?: string } = {},
): Promise<ArtifactRecord> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.meta ?? {})) q.append(`meta.${k}`, v);
  for (const id of opts.from ?? []) q.append('derived_from', id);
  const path = name.split('/').map(encodeURIComponent).join('/');
  const res = await s.fetch(
    `/v1/sessions/${encodeURIComponent(sid)}/artifacts/${path}?${q.toString()}`,
    {
      method: 'PUT',
      body: typeof body === 'string' ? Buffer.from(body) : body,
      headers: opts.type ? { 'Content-Type': opts.type } : {},
    },
  );
  if (res.status !== 201) throw new Error(`push ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ArtifactRecord;
}

/** Sets a session's metadata. */
export async function sessionMeta(s: TestServer, sid: string, meta: Record<string, string>) {
  const res = await s.fetch(`/v1/sessions/${encodeURIComponent(sid)}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ meta }),
  });
  if (!res.ok) throw new Error(`meta ${sid}: ${res.status}`);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A real PNG: a `w`×`h` gradient. */
export function png(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows: number[] = [];
  for (let y = 0; y < h; y++) {
    rows.push(0);
    for (let x = 0; x < w; x++) rows.push(40 + (x * 180) / w, 90 + (y * 120) / h, 200);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const REPORT_MD = `# Q3 billing run

Revenue is **up 12%** against _Q2_; churn is flat. Details in the [dashboard](https://example.com/q3).

## Findings

- Invoices reconciled: \`18,240\`
- Mismatches: 3, all in EU-West
  - two rounding errors
  - one duplicate charge
- [x] totals checked
- [ ] refunds pending

| region | invoices | mismatches |
|---|--:|--:|
| us-east | 9,120 | 0 |
| eu-west | 6,004 | 3 |
| ap-south | 3,116 | 0 |

> Numbers are preliminary until the ledger closes.

\`\`\`sql
SELECT region, count(*) FROM invoices GROUP BY region;
\`\`\`
`;

export const SCORES_CSV = `model,dataset,accuracy,latency_ms,notes
claude-sonnet,billing-eval,0.942,812,"baseline, tuned prompt"
claude-sonnet,refund-eval,0.915,790,
claude-haiku,billing-eval,0.901,245,"fast, cheap"
claude-haiku,refund-eval,0.874,231,
gpt-x,billing-eval,0.921,1004,"retries: 2"
`;

export const RESULT_JSON = {
  run: 'run_42',
  model: 'claude-sonnet',
  params: { temperature: 0.2, max_tokens: 4096, tools: ['search', 'sql'] },
  metrics: { accuracy: 0.942, f1: 0.931, cost_usd: 1.87 },
  failures: [
    { id: 'inv_1029', reason: 'rounding', delta: 0.01 },
    { id: 'inv_2210', reason: 'duplicate', delta: 42.5 },
  ],
  passed: true,
  reviewer: null,
};

/** A log: `n` lines, with line 7 changed in `variant` 2. */
export function log(n: number, variant = 1): string {
  return Array.from({ length: n }, (_, i) =>
    variant === 2 && i === 7
      ? `2025-01-01T00:00:07Z WARN retrying invoice batch 7 (timeout)`
      : `2025-01-01T00:00:${String(i % 60).padStart(2, '0')}Z INFO processed invoice batch ${i}`,
  ).join('\n');
}

/** The demo data the browser tests and screenshots use. */
export async function seedDemo(s: TestServer) {
  const input = await push(s, 'run_42', 'inputs/invoices.csv', SCORES_CSV, {
    meta: { source: 'ledger' },
  });
  const md = await push(s, 'run_42', 'reports/summary.md', REPORT_MD, {
    meta: { agent: 'claude-sonnet', stage: 'qa' },
    from: [input.id],
  });
  const csv = await push(s, 'run_42', 'eval/scores.csv', SCORES_CSV, {
    meta: { agent: 'claude-sonnet', kind: 'eval' },
    from: [input.id],
  });
  const json = await push(s, 'run_42', 'eval/result.json', JSON.stringify(RESULT_JSON), {
    meta: { agent: 'claude-sonnet' },
    from: [csv.id],
  });
  const log1 = await push(s, 'run_42', 'logs/agent.log', log(40, 1));
  const log2 = await push(s, 'run_42', 'logs/agent.log', log(40, 2));
  const image = await push(s, 'run_42', 'charts/accuracy.png', png(240, 120), {
    meta: { kind: 'chart' },
  });
  await sessionMeta(s, 'run_42', { agent: 'claude-sonnet', pipeline: 'billing' });
  for (let i = 1; i <= 4; i++) {
    await push(s, `nightly_${i}`, 'out.json', JSON.stringify({ night: i }), {
      meta: { pipeline: i % 2 ? 'billing' : 'search' },
    });
    await sessionMeta(s, `nightly_${i}`, { pipeline: i % 2 ? 'billing' : 'search' });
  }
  const sealed = await s.fetch('/v1/sessions/nightly_1/seal', { method: 'POST' });
  if (!sealed.ok) throw new Error('seal');
  return { input, md, csv, json, log1, log2, image };
}
