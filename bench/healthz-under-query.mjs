#!/usr/bin/env node
/* global performance, fetch */
// /healthz latency while the most expensive where= we know runs (issue 19): a 4 KiB chain of
// or-ed equalities on a metadata key no artifact has, which tests every term on every artifact.
// Usage: node bench/healthz-under-query.mjs [--artifacts 10000] [--cli bin/cairn.js]
//        [--query-timeout 2s]   (--cli points at another build, e.g. the code before the change)
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generatedCatalog } from './generate-catalog.mjs';
import { ROOT, percentile, startListening } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const count = Number(arg('artifacts', 10_000));
const cli = resolve(arg('cli', join(ROOT, 'bin/cairn.js')));
const timeout = arg('query-timeout');

/** The attack: `nokey='0' or nokey='1' or …`, as long as where= allows (4,096 characters). */
function worstWhere() {
  let w = "nokey='0'";
  for (let i = 1; ; i++) {
    const t = ` or nokey='${i}'`;
    if (w.length + t.length > 4096) return w;
    w += t;
  }
}

const data = mkdtempSync(join(tmpdir(), 'cairn-healthz-'));
cpSync(await generatedCatalog(count), data, { recursive: true });
const args = [cli, 'serve', '--port', '0', '--data', data];
if (timeout) args.push('--query-timeout', timeout);
const srv = await startListening(args);
const token = (await import('node:fs')).readFileSync(join(data, 'admin.token'), 'utf8').trim();
const auth = { Authorization: `Bearer ${token}` };
try {
  // Warm up: the catalog's pages and (after the change) the read workers.
  await fetch(`${srv.url}/v1/artifacts?limit=1`, { headers: auth });
  const t0 = performance.now();
  let answered = null;
  const query = fetch(`${srv.url}/v1/artifacts?where=${encodeURIComponent(worstWhere())}`, {
    headers: auth,
  }).then(async (r) => {
    answered = { status: r.status, ms: performance.now() - t0, body: await r.text() };
  });
  await new Promise((r) => setTimeout(r, 20)); // let the query reach the server first
  const lat = [];
  let pushMs = null;
  while (!answered) {
    const t = performance.now();
    await fetch(`${srv.url}/healthz`);
    lat.push(performance.now() - t);
    if (pushMs === null) {
      const p = performance.now();
      await fetch(`${srv.url}/v1/sessions/bench/artifacts/x.txt`, {
        method: 'PUT',
        headers: auth,
        body: 'x',
      });
      pushMs = performance.now() - p;
    }
  }
  await query;
  const f = (x) => x.toFixed(1);
  console.log(
    JSON.stringify({
      cli,
      artifacts: count,
      query: {
        status: answered.status,
        ms: Math.round(answered.ms),
        body: answered.body.slice(0, 90),
      },
      healthz: {
        n: lat.length,
        p50_ms: f(percentile(lat, 50)),
        p99_ms: f(percentile(lat, 99)),
        max_ms: f(Math.max(...lat)),
      },
      push_ms: f(pushMs),
    }),
  );
} finally {
  await srv.stop();
  rmSync(data, { recursive: true, force: true });
}
