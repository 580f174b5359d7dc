import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../src/server/routes/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rawRequest } from './raw-http.js';

// Property-based fuzzing of the whole route table: whatever arrives, the answer is never a 5xx
// or a hang, and every error is the JSON envelope. FUZZ_RUNS raises the count on demand.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
let s: TestServer;
let readToken = '';

beforeAll(async () => {
  s = await startTestServer({ bodyIdleTimeoutMs: 2000 });
  await s.fetch('/v1/sessions/fz/artifacts/seed.txt', { method: 'PUT', body: 'seed' });
  const res = await s.fetch('/v1/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{"scope":"read"}',
  });
  readToken = ((await res.json()) as { token: string }).token;
});
afterAll(async () => s.close());

// Streams that stay open by design (long poll, server-sent events) are outside a request fuzz.
const routes = allRoutes().filter((r) => !/\/wait$|\/events$/.test(r.path));

/** Path segments a fuzzer should try: odd bytes, escapes, traversal, real-looking values. */
const segment = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc
    .uint8Array({ maxLength: 12 })
    .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom(
    '..',
    '.',
    '',
    '%2e%2e',
    '%2F',
    'a%00b',
    'fz',
    'seed.txt',
    'a_01J00000000000000000000000',
    '0'.repeat(64),
  ),
);

const queryValue = fc.oneof(
  fc.string({ maxLength: 60 }).map(encodeURIComponent),
  fc.constantFrom('1', '0', '-1', 'true', '7d', '1y', '%FF', "'", '(', 'a=1', '9'.repeat(30), '%'),
);
const queryKey = fc.oneof(
  fc.constantFrom(
    'limit',
    'cursor',
    'where',
    'session',
    'name',
    'type',
    'since',
    'until',
    'latest',
    'ttl',
    'version',
    'sha256',
    'sealed',
    'repair',
    'dry_run',
    'derived_from',
    'meta.agent',
    'meta.X',
    'meta.',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);

const printable = fc.string({ maxLength: 80 }).map((v) => v.replace(/[^\x20-\x7e]/g, ''));
const headers = fc.record(
  {
    'Content-Type': fc.oneof(
      fc.constantFrom('application/json', 'text/plain', 'application/x-tar', ''),
      printable,
    ),
    'Content-Digest': fc.oneof(printable, fc.constant('sha-256=:AAAA:')),
    Range: fc.oneof(printable, fc.constantFrom('bytes=0-0', 'bytes=-5', 'bytes=9-1', 'bytes=0-')),
    'If-None-Match': printable,
    'Idempotency-Key': printable,
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.json({ maxDepth: 4 }),
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 200 }),
);

const request = fc.record({
  route: fc.constantFrom(...routes),
  method: fc.oneof(
    fc.constant(null),
    fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'),
  ),
  segments: fc.array(segment, { minLength: 1, maxLength: 4 }),
  query: fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }),
  headers,
  body,
  as: fc.constantFrom('admin', 'read', 'none'),
});

describe(`HTTP API fuzz (${RUNS} requests, fast-check)`, () => {
  it('never answers 5xx, never hangs, errors are the JSON envelope', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        let i = 0;
        const path = r.route.path.replace(/[:*][a-z0-9_]+/g, (m) =>
          m.startsWith('*') ? r.segments.join('/') : r.segments[i++ % r.segments.length] || 'x',
        );
        const query = r.query.map(([k, v]) => `${k}=${v}`).join('&');
        const method = r.method ?? r.route.method;
        const auth = r.as === 'admin' ? s.token : r.as === 'read' ? readToken : null;
        const res = await rawRequest(s.url, method, query ? `${path}?${query}` : path, {
          body: method === 'GET' || method === 'HEAD' ? undefined : r.body,
          headers: { ...r.headers, ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
          timeoutMs: 10_000,
        });
        expect(res.status, `${method} ${path}?${query} → ${res.body.slice(0, 200)}`).toBeLessThan(
          500,
        );
        if (res.status >= 400 && method !== 'HEAD' && !path.startsWith('/mcp')) {
          const env = JSON.parse(res.body) as { error: { code: string; message: string } };
          expect(typeof env.error.code).toBe('string');
          expect(typeof env.error.message).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
    // Nothing was written anywhere but the data dir's own layout.
    const allowed = [
      'admin.token',
      'blobs',
      'blobs.journal',
      'catalog.db',
      'catalog.db-shm',
      'catalog.db-wal',
      'cairn.lock',
      'cairn.lock.owner',
      'nodes',
      'seal.key',
      'tmp',
    ];
    for (const entry of readdirSync(s.dataDir)) expect(allowed).toContain(entry);
  }, 300_000);
});
