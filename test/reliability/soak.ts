import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawnServer } from '../helpers/server.js';

/** Options of a soak run. */
export interface SoakOptions {
  dataDir: string;
  durationMs: number;
  /** Concurrent agents. */
  agents: number;
  /** RSS sample period, ms. */
  sampleMs?: number;
  log?: (line: string) => void;
}

/** Latency figures of one operation kind, in ms. */
export interface OpStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** What a soak run measured. */
export interface SoakSummary {
  seconds: number;
  agents: number;
  ops: number;
  opsPerSecond: number;
  errors: number;
  errorSamples: string[];
  byOp: Record<string, OpStats>;
  /** Server RSS samples, MiB, one per sampleMs. */
  rssMiB: number[];
}

type Op = 'push' | 'query' | 'pull' | 'seal' | 'wait';

/**
 * A bounded load test on loopback against the real `cairn serve`: each agent loops pushing
 * (1–16 KiB, with metadata), querying by metadata, pulling what it pushed, and every so often
 * sealing its session while a peer long-polls for that seal. Records every latency, every error
 * (any non-2xx or failed request) and the server's RSS over time.
 */
export async function runSoak(o: SoakOptions): Promise<SoakSummary> {
  const server = await spawnServer(o.dataDir);
  const auth = { Authorization: `Bearer ${server.token}` };
  const lat: Record<Op, number[]> = { push: [], query: [], pull: [], seal: [], wait: [] };
  const errors: string[] = [];
  let errorCount = 0;
  const rss: number[] = [];
  const pid = server.child.pid as number;
  const sampler = setInterval(() => rss.push(rssMiB(pid)), o.sampleMs ?? 1000);
  const started = Date.now();
  const deadline = started + o.durationMs;

  const timed = async (op: Op, fn: () => Promise<Response>): Promise<Response | null> => {
    const t0 = performance.now();
    try {
      const res = await fn();
      const body = await res.arrayBuffer();
      lat[op].push(performance.now() - t0);
      if (res.status >= 300) {
        errorCount++;
        if (errors.length < 20)
          errors.push(`${op} ${res.status} ${Buffer.from(body).toString().slice(0, 120)}`);
        return null;
      }
      return new Response(body, { status: res.status });
    } catch (err) {
      errorCount++;
      if (errors.length < 20) errors.push(`${op} ${(err as Error).message}`);
      return null;
    }
  };

  const agent = async (n: number): Promise<void> => {
    for (let round = 0; Date.now() < deadline; round++) {
      const sid = `soak_${n}_${round}`;
      // A peer waits for this session's seal while this agent fills it.
      const waiting = timed('wait', () =>
        fetch(`${server.url}/v1/sessions/${sid}/wait?until=sealed&timeout=30s`, { headers: auth }),
      );
      const ids: string[] = [];
      // The first push always goes: a round begun just before the deadline still has a
      // session to seal (it would answer 404), and its waiter gets its seal.
      for (let i = 0; i < 10 && (i === 0 || Date.now() < deadline); i++) {
        const body = randomBytes(1024 + Math.floor(Math.random() * 15 * 1024));
        const res = await timed('push', () =>
          fetch(
            `${server.url}/v1/sessions/${sid}/artifacts/f${i}.bin?meta.agent=a${n}&meta.round=${round}`,
            {
              method: 'PUT',
              body,
              headers: auth,
            },
          ),
        );
        if (res) ids.push(((await res.json()) as { id: string }).id);
        await timed('query', () =>
          fetch(`${server.url}/v1/artifacts?meta.agent=a${n % 4}&meta.round=${round}&limit=50`, {
            headers: auth,
          }),
        );
        const id = ids[Math.floor(Math.random() * ids.length)];
        if (id)
          await timed('pull', () =>
            fetch(`${server.url}/v1/artifacts/${id}/content`, { headers: auth }),
          );
      }
      await timed('seal', () =>
        fetch(`${server.url}/v1/sessions/${sid}/seal`, { method: 'POST', headers: auth }),
      );
      await waiting;
    }
  };

  const progress = setInterval(() => {
    const ops = Object.values(lat).reduce((a, l) => a + l.length, 0);
    o.log?.(
      `${Math.round((Date.now() - started) / 1000)} s: ${ops} ops, ${errorCount} errors, RSS ${rss.at(-1) ?? '?'} MiB`,
    );
  }, 10_000);
  try {
    await Promise.all(Array.from({ length: o.agents }, (_, n) => agent(n)));
  } finally {
    clearInterval(sampler);
    clearInterval(progress);
    await server.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const byOp: Record<string, OpStats> = {};
  let ops = 0;
  for (const [op, l] of Object.entries(lat)) {
    ops += l.length;
    byOp[op] = stats(l);
  }
  return {
    seconds,
    agents: o.agents,
    ops,
    opsPerSecond: ops / seconds,
    errors: errorCount,
    errorSamples: errors,
    byOp,
    rssMiB: rss,
  };
}

function stats(l: number[]): OpStats {
  const s = [...l].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : 0);
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? 0 };
}

/** Resident set size of a process, MiB (Linux /proc). */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** Human summary lines of a soak run. */
export function soakReport(s: SoakSummary): string[] {
  const fmt = (n: number) => n.toFixed(1);
  const rss = s.rssMiB.filter((x) => x > 0);
  const third = Math.max(1, Math.floor(rss.length / 3));
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  return [
    `soak: ${s.agents} agents for ${fmt(s.seconds)} s on loopback: ${s.ops} requests, ${fmt(s.opsPerSecond)} req/s, ${s.errors} errors`,
    ...Object.entries(s.byOp).map(
      ([op, x]) =>
        `  ${op.padEnd(6)} ${String(x.count).padStart(7)}  p50 ${fmt(x.p50)} ms  p99 ${fmt(x.p99)} ms  max ${fmt(x.max)} ms`,
    ),
    `  server RSS MiB: first third avg ${fmt(avg(rss.slice(0, third)))}, last third avg ${fmt(avg(rss.slice(-third)))}, max ${Math.max(0, ...rss)}`,
    `  RSS over time (MiB): ${rss.join(' ')}`,
    ...s.errorSamples.map((e) => `  ERROR ${e}`),
  ];
}
