#!/usr/bin/env node
/* global performance, fetch, Buffer, setInterval, clearInterval */
// Memory and start: server RSS while streaming a 5 GiB upload; time to ready and RSS with
// 1,000,000 artifacts; dedupe (1,000 pushes of the same bytes → one stored blob).
import http from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generatedCatalog } from './generate-catalog.mjs';
import {
  QUICK,
  ROOT,
  median,
  record,
  round,
  rssMiB,
  startCairn,
  tempDir,
  waitForLowLoad,
} from './lib.mjs';

const uploadBytes = QUICK ? 64 * 1024 ** 2 : 5 * 1024 ** 3;
const artifacts = QUICK ? 20_000 : Number(process.env.BENCH_ARTIFACTS ?? 1_000_000);
const pushes = QUICK ? 50 : 1000;

/** PUTs `bytes` bytes (a repeated 1 MiB buffer) with chunked encoding; resolves with the status. */
function upload(server, path, bytes) {
  return new Promise((res, rej) => {
    const req = http.request(`${server.url}${path}`, {
      method: 'PUT',
      headers: {
        Authorization: `Bearer ${server.token}`,
        'Content-Type': 'application/octet-stream',
      },
    });
    req.on('response', (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode));
    });
    req.on('error', rej);
    const chunk = Buffer.alloc(1024 ** 2, 7);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

const before = await waitForLowLoad();

// 1. RSS while streaming a large upload.
const upDir = tempDir('cairn-bench-mem-');
let upload5 = {};
{
  const server = await startCairn(upDir);
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(server.pid))), 100);
  const t = performance.now();
  const status = await upload(server, '/v1/sessions/mem/artifacts/huge.bin', uploadBytes);
  const seconds = (performance.now() - t) / 1000;
  clearInterval(timer);
  await server.stop();
  rmSync(upDir, { recursive: true, force: true });
  if (status !== 201) throw new Error(`upload answered ${status}`);
  upload5 = {
    bytes: uploadBytes,
    peak_rss_MiB: round(peak, 0),
    MBps: round(uploadBytes / 1e6 / seconds, 0),
  };
  console.log(`upload: ${JSON.stringify(upload5)}`);
}

// 2. Time to ready and RSS with a large catalog.
const dir = await generatedCatalog(artifacts);
const starts = [];
let rssIdle = 0;
let rssAfterQueries = 0;
for (let i = 0; i < 3; i++) {
  const server = await startCairn(dir);
  const t = performance.now();
  const h = await fetch(`${server.url}/healthz`);
  starts.push(server.readyMs + (performance.now() - t));
  if (h.status !== 200) throw new Error(`healthz answered ${h.status}`);
  if (i === 2) {
    rssIdle = rssMiB(server.pid);
    const auth = { headers: { Authorization: `Bearer ${server.token}` } };
    for (const qs of [
      'meta.agent=claude&meta.stage=prod',
      'meta.env=prod&meta.tier=gold',
      'limit=1000',
    ]) {
      await (await fetch(`${server.url}/v1/artifacts?${qs}`, auth)).text();
    }
    await (await fetch(`${server.url}/v1/sessions?limit=1000`, auth)).text();
    rssAfterQueries = rssMiB(server.pid);
  }
  await server.stop();
}
const start = {
  artifacts,
  ready_ms_median: round(median(starts), 0),
  ready_ms: starts.map((x) => round(x, 0)),
  rss_idle_MiB: round(rssIdle, 0),
  rss_after_queries_MiB: round(rssAfterQueries, 0),
};
console.log(`start: ${JSON.stringify(start)}`);

// 3. Dedupe: the same bytes pushed under many names are stored once.
const dedupDir = tempDir('cairn-bench-dedupe-');
let dedupe = {};
{
  const server = await startCairn(dedupDir);
  const body = Buffer.alloc(100_000, 'x');
  let next = 0;
  const worker = async () => {
    while (next < pushes) {
      const i = next++;
      const r = await fetch(`${server.url}/v1/sessions/dedupe/artifacts/copy-${i}.bin`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${server.token}` },
        body,
      });
      if (r.status !== 201) throw new Error(`push answered ${r.status}`);
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await server.stop();
  const { createApp } = await import(pathToFileURL(join(ROOT, 'build/app.js')).href);
  const app = await createApp({ dataDir: dedupDir, port: 0 });
  let stored = 0;
  for await (const _ of app.blobs.list()) stored++;
  let rows = 0;
  for await (const _ of app.catalog.listBlobs()) rows++;
  const session = await app.catalog.getSession('dedupe', Date.now());
  await app.close();
  rmSync(dedupDir, { recursive: true, force: true });
  dedupe = { pushes, artifacts: session.artifactCount, stored_blobs: stored, blob_rows: rows };
  console.log(`dedupe: ${JSON.stringify(dedupe)}`);
}

record('memory-start', { load_before: before, upload: upload5, start, dedupe });
