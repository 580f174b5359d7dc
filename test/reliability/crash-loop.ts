import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnServer, type ServerProcess } from '../helpers/server.js';
import { crashClient, type Model } from './crash-client.js';

/** Options of one crash-loop run. */
export interface CrashLoopOptions {
  /** Data dir (created); reused across all cycles. */
  dataDir: string;
  cycles: number;
  /** Concurrent clients per cycle. */
  clients?: number;
  /**
   * When to kill -9: after a random number of acknowledged operations in [min, max), then a
   * random 0–50 ms more (so the kill lands anywhere in a request, whatever the machine's speed).
   */
  killAfterOps?: [number, number];
  /** Progress lines (one per cycle). */
  log?: (line: string) => void;
}

/** What a crash-loop run found. Every count but cycles/acked/checked must be 0. */
export interface CrashLoopSummary {
  cycles: number;
  /** Pushes, deletes, seals and shares the server acknowledged. */
  acked: { pushes: number; deletes: number; seals: number; shares: number };
  /** Artifact checks made after restarts (record present with the right hash and size). */
  checked: number;
  /** Artifacts whose bytes were downloaded and rehashed after restarts. */
  bytesVerified: number;
  lost: number;
  corrupt: number;
  /** Visible artifacts nobody pushed whole (a half-written push). */
  halfWritten: number;
  /** Acknowledged deletes whose artifact came back. */
  resurrected: number;
  /** Sealed sessions whose digest changed or that became open. */
  unsealed: number;
  brokenShares: number;
  tempFiles: number;
  /** fsck problems after start-up recovery (orphan blobs, wrong refcounts, …). */
  fsckProblems: number;
  /** Blobs the commit journal held at the kills (between rename and catalog commit). */
  inFlightAtKill: number;
  failures: string[];
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Repeatedly runs the real server (`cairn serve` as a child process), lets several clients
 * push, delete, seal and share concurrently, kills it with SIGKILL at a random moment and
 * restarts it; after each restart checks every promise Cairn makes about acknowledged writes.
 */
export async function runCrashLoop(o: CrashLoopOptions): Promise<CrashLoopSummary> {
  const model: Model = { artifacts: new Map(), sealed: new Map(), shares: [], bodies: new Set() };
  const s: CrashLoopSummary = {
    cycles: 0,
    acked: { pushes: 0, deletes: 0, seals: 0, shares: 0 },
    checked: 0,
    bytesVerified: 0,
    lost: 0,
    corrupt: 0,
    halfWritten: 0,
    resurrected: 0,
    unsealed: 0,
    brokenShares: 0,
    tempFiles: 0,
    fsckProblems: 0,
    inFlightAtKill: 0,
    failures: [],
  };
  const [minOps, maxOps] = o.killAfterOps ?? [10, 80];
  let reported = 0;
  for (let cycle = 1; cycle <= o.cycles; cycle++) {
    const server = await spawnServer(o.dataDir);
    try {
      if (cycle > 1) await verify(server, model, s, false);
      const stop = { now: false };
      const clients = Array.from({ length: o.clients ?? 6 }, (_, w) =>
        crashClient(server, model, `c${cycle}w${w}`, stop, s.acked),
      );
      const target = opsOf(s) + minOps + Math.floor(Math.random() * (maxOps - minOps));
      for (let waited = 0; opsOf(s) < target && waited < 20_000; waited += 5) await sleep(5);
      await sleep(Math.random() * 50);
      await server.kill9();
      stop.now = true;
      await Promise.all(clients);
      s.inFlightAtKill += journalPending(o.dataDir);
    } catch (err) {
      await server.kill9().catch(() => undefined);
      throw err;
    }
    s.cycles = cycle;
    for (const f of s.failures.slice(reported)) o.log?.(`  FAIL ${f}`);
    reported = s.failures.length;
    o.log?.(
      `cycle ${cycle}/${o.cycles}: ${s.acked.pushes} pushes, ${s.acked.deletes} deletes, ${s.acked.seals} seals, ${s.acked.shares} shares acknowledged; ${s.checked} checks; problems ${problems(s)}`,
    );
  }
  const last = await spawnServer(o.dataDir);
  try {
    await verify(last, model, s, true);
  } finally {
    await last.stop();
  }
  return s;
}

function opsOf(s: CrashLoopSummary): number {
  return s.acked.pushes + s.acked.deletes + s.acked.seals + s.acked.shares;
}

/** Sum of everything that must be 0. */
export function problems(s: CrashLoopSummary): number {
  return (
    s.lost +
    s.corrupt +
    s.halfWritten +
    s.resurrected +
    s.unsealed +
    s.brokenShares +
    s.tempFiles +
    s.fsckProblems
  );
}

function fail(s: CrashLoopSummary, msg: string): void {
  if (s.failures.length < 50) s.failures.push(msg);
}

/** After a restart, before any client runs: checks the model against the server. */
async function verify(
  server: ServerProcess,
  model: Model,
  s: CrashLoopSummary,
  everyByte: boolean,
): Promise<void> {
  const auth = { Authorization: `Bearer ${server.token}` };
  const get = (path: string) => fetch(server.url + path, { headers: auth });
  const tmp = readdirSync(join(server.dataDir, 'tmp'));
  s.tempFiles += tmp.length;
  if (tmp.length) fail(s, `temp files after start: ${tmp.join(', ')}`);

  const visible = new Map<string, { sha256: string; size: number }>();
  for (let cursor = ''; ;) {
    const res = await get(`/v1/artifacts?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    const page = (await res.json()) as {
      items: { id: string; sha256: string; size: number }[];
      next_cursor: string | null;
    };
    for (const r of page.items) visible.set(r.id, r);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }

  for (const [id, a] of model.artifacts) {
    const v = visible.get(id);
    if (a.deleted === 'yes') {
      if (v) {
        s.resurrected++;
        fail(s, `deleted ${id} is visible again`);
      }
      continue;
    }
    if (!v) {
      if (a.deleted === 'maybe') continue;
      s.lost++;
      fail(s, `acknowledged ${a.session}/${a.name} (${id}) is missing`);
      continue;
    }
    s.checked++;
    if (v.sha256 !== a.sha256 || v.size !== a.size) {
      s.corrupt++;
      fail(s, `${id}: record says ${v.sha256}/${v.size}, pushed ${a.sha256}/${a.size}`);
      continue;
    }
    // Bytes: everything new since the last check, a 2% sample of the rest (fsck rehashes all).
    if (!a.verified || everyByte || Math.random() < 0.02) {
      const body = Buffer.from(await (await get(`/v1/artifacts/${id}/content`)).arrayBuffer());
      s.bytesVerified++;
      if (sha(body) !== a.sha256) {
        s.corrupt++;
        fail(s, `${id}: bytes hash to ${sha(body)}, pushed ${a.sha256}`);
      }
    }
    a.verified = true;
  }
  // Whatever is visible but was never acknowledged must be a whole push of what a client sent.
  for (const [id, v] of visible) {
    if (model.artifacts.has(id)) continue;
    const body = Buffer.from(await (await get(`/v1/artifacts/${id}/content`)).arrayBuffer());
    s.bytesVerified++;
    if (sha(body) !== v.sha256 || body.length !== v.size || !model.bodies.has(v.sha256)) {
      s.halfWritten++;
      fail(s, `unacknowledged ${id} is not a whole push (${body.length} B)`);
    }
  }
  for (const [sid, digest] of model.sealed) {
    const rec = (await (await get(`/v1/sessions/${sid}`)).json()) as {
      sealed?: boolean;
      digest?: string;
    };
    if (!rec.sealed || rec.digest !== digest) {
      s.unsealed++;
      fail(
        s,
        `sealed session ${sid} came back ${rec.sealed ? `with digest ${rec.digest}` : 'open'}`,
      );
    }
  }
  for (const share of model.shares.filter((x) => everyByte || !x.verified)) {
    const res = await fetch(server.url + share.path);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || sha(body) !== share.sha256) {
      s.brokenShares++;
      fail(s, `share ${share.path} answered ${res.status}`);
    }
    share.verified = true;
  }
  const fsck = (await (
    await fetch(`${server.url}/v1/fsck`, { method: 'POST', headers: auth })
  ).json()) as { problems_total: number; problems: { kind: string; subject: string }[] };
  s.fsckProblems += fsck.problems_total;
  for (const p of fsck.problems.slice(0, 5)) fail(s, `fsck: ${p.kind} ${p.subject}`);
}

/** Net open entries of the commit journals (see CommitJournal): recovery's work at the next start. */
function journalPending(dataDir: string): number {
  let text = '';
  try {
    const dir = join(dataDir, 'nodes');
    for (const n of readdirSync(dir).filter((f) => f.endsWith('.journal'))) {
      text += readFileSync(join(dir, n), 'utf8');
    }
  } catch {
    return 0;
  }
  const open = new Map<string, number>();
  for (const line of text.split('\n').filter(Boolean)) {
    const sha = line.replace(/^-/, '');
    open.set(sha, (open.get(sha) ?? 0) + (line.startsWith('-') ? -1 : 1));
  }
  return [...open.values()].filter((n) => n > 0).length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
