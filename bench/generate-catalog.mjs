#!/usr/bin/env node
/* global performance */
// Builds (once, then reuses) a data dir whose catalog holds N generated artifacts with
// realistic metadata, written with bulk SQL into the schema made by the real migrations.
// Usage: node bench/generate-catalog.mjs [N]  → prints the data dir.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib.mjs';

const GENERATOR = 1;
export const AGENTS = ['claude', 'gpt', 'gemini', 'llama', 'mistral'];
export const STAGES = ['dev', 'qa', 'staging', 'prod'];
const TYPES = ['application/json', 'text/markdown', 'text/csv', 'image/png'];
const PER_SESSION = 100;

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same catalog. */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Metadata of artifact `i`: agent (5 values, skewed), pipeline (20), stage (4), customer (1000),
 * run (one per session: 10,000 at 1M), score (0.00–1.00), env (prod/dev, half each) and tier
 * (gold only when env=dev, so env=prod AND tier=gold matches nothing over two large sets).
 */
export function metaOf(i, r) {
  const env = r() < 0.5 ? 'prod' : 'dev';
  return {
    agent: AGENTS[Math.min(4, Math.floor(r() ** 1.5 * 5))],
    pipeline: `p${Math.floor(r() * 20)}`,
    stage: STAGES[Math.floor(r() * 4)],
    customer: `c${Math.floor(r() * 1000)}`,
    run: `run_${String(Math.floor(i / PER_SESSION)).padStart(6, '0')}`,
    score: (Math.floor(r() * 101) / 100).toFixed(2),
    env,
    tier: env === 'dev' && r() < 0.5 ? 'gold' : 'silver',
  };
}

/** Returns the data dir holding `count` generated artifacts, generating it if needed. */
export async function generatedCatalog(count) {
  const dir = join(process.env.BENCH_TMP ?? tmpdir(), `cairn-bench-catalog-${count}`);
  const marker = join(dir, 'generated.json');
  if (fs.existsSync(marker) && JSON.parse(fs.readFileSync(marker, 'utf8')).generator === GENERATOR)
    return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const { SqliteCatalog } = await import(
    pathToFileURL(join(ROOT, 'build/catalog/sqlite/sqlite-catalog.js')).href
  );
  const catalog = SqliteCatalog.open({ dir, durability: 'process' });
  const db = catalog.db;
  db.pragma('synchronous = OFF');
  const t0 = performance.now();
  const r = rng(42);
  const base = Date.now() - count * 1000;
  const ins = {
    session: db.prepare(
      `INSERT INTO sessions (id, meta, created_at, updated_at, artifact_count, total_bytes, sealed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    sessionMeta: db.prepare('INSERT INTO session_meta (key, value, session_seq) VALUES (?, ?, ?)'),
    blob: db.prepare('INSERT INTO blobs (sha256, size, refs) VALUES (?, ?, 1)'),
    artifact: db.prepare(
      `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, expires_at, is_latest)
       VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, NULL, 1)`,
    ),
    meta: db.prepare('INSERT INTO artifact_meta (key, value, artifact_seq) VALUES (?, ?, ?)'),
  };
  const sessions = Math.ceil(count / PER_SESSION);
  const batch = db.transaction((from, to) => {
    for (let s = from; s < to; s++) {
      const created = base + s * PER_SESSION * 1000;
      const n = Math.min(PER_SESSION, count - s * PER_SESSION);
      const smeta = { team: `team${s % 10}`, agent: AGENTS[s % 5] };
      const sealed = s < sessions - 10 ? created + n * 1000 : null;
      const seq = Number(
        ins.session.run(
          `run_${String(s).padStart(6, '0')}`,
          JSON.stringify(smeta),
          created,
          created,
          n,
          n * 2048,
          sealed,
        ).lastInsertRowid,
      );
      for (const [k, v] of Object.entries(smeta)) ins.sessionMeta.run(k, v, seq);
      for (let j = 0; j < n; j++) {
        const i = s * PER_SESSION + j;
        const sha = createHash('sha256').update(String(i)).digest('hex');
        const meta = metaOf(i, r);
        const type = TYPES[i % 4];
        ins.blob.run(sha, 2048);
        const id = `a_${(created + j * 1000).toString(32).toUpperCase().padStart(10, '0')}${String(i).padStart(16, '0')}`;
        const aseq = Number(
          ins.artifact.run(
            id,
            seq,
            `out/file-${j}.${type.split('/')[1]}`,
            sha,
            2048,
            type,
            JSON.stringify(meta),
            created + j * 1000,
          ).lastInsertRowid,
        );
        for (const [k, v] of Object.entries(meta)) ins.meta.run(k, v, aseq);
      }
    }
  });
  const step = 500;
  for (let s = 0; s < sessions; s += step) {
    batch(s, Math.min(sessions, s + step));
    if ((s / step) % 20 === 0) process.stderr.write(`generated ${s * PER_SESSION} artifacts\n`);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  await catalog.close();
  const seconds = (performance.now() - t0) / 1000;
  fs.writeFileSync(marker, JSON.stringify({ generator: GENERATOR, count, seconds }));
  process.stderr.write(`generated ${count} artifacts in ${seconds.toFixed(1)} s\n`);
  return dir;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await generatedCatalog(Number(process.argv[2] ?? 1_000_000)));
}
