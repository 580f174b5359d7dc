import { createHash, randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MARK_STALE_MS } from '../../src/core/blob-leases.js';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster.js';
import { LONG } from './sizes.js';

// A node killed -9 in the middle of garbage collection, between marking blobs and deleting
// their bytes, round after round: pushes of those same bytes on the other nodes (while it
// collects and after it died) are acknowledged only once the bytes are safe (a push of bytes
// it left marked is made no earlier than the mark turns stale) and read back whole; the
// marks it left are taken over once stale and the garbage really goes (no unreferenced row,
// no orphan file); nothing referenced is collected; fsck is clean.
// The nodes share one blob directory: a dead node's deletes cannot land later, so its marks
// turn stale after MARK_STALE_MS (60 s) of real time. On S3 the same takes 16 minutes (a signed
// DELETE may land 15 minutes late), too long to wait here; the protocol is the same.

const ROUNDS = LONG ? 8 : 2;
/** Expired artifacts (of distinct bytes) a round's collection pass goes over. */
const CANDIDATES = LONG ? 400 : 160;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Small bodies live inline in PostgreSQL, larger ones (over 64 KiB) as files. */
function body(i: number): Buffer {
  return randomBytes(i % 3 === 0 ? randomInt(70_000, 150_000) : randomInt(100, 20_000));
}

/** Local ports of process `pid`'s TCP connections to `port` (Linux /proc). */
function tcpPortsOf(pid: number, port: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6'])
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const col = line.trim().split(/\s+/);
      if (col.length < 10 || !inodes.has(col[9])) continue;
      if (parseInt(col[2].split(':').pop()!, 16) === port)
        ports.push(parseInt(col[1].split(':').pop()!, 16));
    }
  return ports;
}

/** Runs `fn` over `items`, `width` at a time. */
async function each<T>(items: T[], width: number, fn: (x: T, i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
}

async function put(node: ClusterNode, path: string, b: Buffer) {
  const res = await node.fetch(path, { method: 'PUT', body: b });
  expect(res.status, `PUT ${path}: ${res.status}`).toBe(201);
  return (await res.json()) as { id: string; created_at: string };
}

async function readsBack(c: Cluster, held: Map<string, Buffer>, k: number): Promise<void> {
  let i = k;
  for (const [id, b] of held) {
    const res = await c.pick(i++).fetch(`/v1/artifacts/${id}/content`);
    expect(res.status, id).toBe(200);
    expect(sha(new Uint8Array(await res.arrayBuffer())), id).toBe(sha(b));
  }
}

describe('a GC node killed -9 between marking and deleting', () => {
  it(
    'pushes of the same bytes elsewhere stay whole, its marks are taken over once stale and the garbage goes',
    async () => {
      // No background sweeps but the one a sweeper runs when it starts (node 0 restarted).
      const c = await startCluster(3, ['--sweep-interval', '1d'], { blobs: 'dir' });
      const db = new pg.Client({ connectionString: c.catalogUrl });
      await db.connect();
      db.on('error', () => undefined); // the database is dropped WITH (FORCE) after the test
      const count = async (sql: string, args: unknown[] = []) =>
        Number(
          (await db.query<{ n: string }>(`SELECT count(*) AS n FROM blobs ${sql}`, args)).rows[0].n,
        );
      /** Artifacts that must read back whole at the end: keepers and re-pushes (id → bytes). */
      const held = new Map<string, Buffer>();
      /** Re-pushes still waiting (a mark of the dead node holds them until it is stale). */
      const pending: Promise<Error | undefined>[] = [];
      const figures = {
        kills: 0,
        rounds: 0,
        candidates: 0,
        /** Marks each counted kill left, how many of them before the bytes went... */
        marksLeft: [] as number[],
        markedBytesThere: 0,
        /** ...and unreferenced rows the pass had not reached yet. */
        unmarkedLeft: [] as number[],
        repushes: 0,
      };
      /** Whether the bytes of `s` are still stored (inline in PostgreSQL, or a file). */
      const blobDir = new URL(c.blobsUrl).pathname;
      const pgPort = Number(new URL(c.catalogUrl).port);
      const stored = async (s: string) =>
        ((await db.query('SELECT 1 FROM inline_blobs WHERE sha256 = $1', [s])).rowCount ?? 0) > 0 ||
        existsSync(join(blobDir, 'blobs', s.slice(0, 2), s.slice(2, 4), s));
      /**
       * Pushes `b` again; with `staleAt` (a dead collector's mark of those bytes turns stale
       * then), the artifact must have been made no earlier: its lease waited for the mark.
       */
      const repush = (node: ClusterNode, path: string, b: Buffer, staleAt?: number) => {
        // A failure is kept (not thrown) until all are awaited: none goes unhandled meanwhile.
        pending.push(
          put(node, path, b).then(
            (rec) => {
              held.set(rec.id, b);
              if (staleAt !== undefined && Date.parse(rec.created_at) < staleAt)
                return new Error(
                  `${path} was made at ${rec.created_at}, before the dead collector's mark of its bytes turned stale (${new Date(staleAt).toISOString()})`,
                );
            },
            (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
          ),
        );
        figures.repushes++;
      };
      try {
        const [, b, d] = c.nodes;
        /** Every doomed body by its sha256 (a pass also collects earlier rounds' leftovers). */
        const bySha = new Map<string, Buffer>();
        // A kill that lands in the pause between two slices of the pass leaves no mark (or
        // only marks of bytes pushed meanwhile): that round does not count, the next one tries.
        for (let round = 0; figures.rounds < ROUNDS; round++) {
          expect(round, 'kills kept missing the marks').toBeLessThan(ROUNDS * 8);
          // Distinct bytes that expire at once; every 8th is also held by a keeper artifact.
          const doomed = Array.from({ length: CANDIDATES }, (_, i) => body(i));
          await each(doomed, 16, async (x, i) => {
            await put(c.pick(i), `/v1/sessions/doomed-${round}/artifacts/d${i}?ttl=1s`, x);
            if (i % 8 === 0)
              held.set(
                (await put(c.pick(i + 1), `/v1/sessions/keep/artifacts/k${round}-${i}`, x)).id,
                x,
              );
          });
          figures.candidates += doomed.length;
          await sleep(1200);

          // Collection on node 0, pushes of some of the same bytes on the others meanwhile;
          // node 0 is killed -9 while its marks are there.
          const started = Date.now();
          let settled = false;
          const gc = c.nodes[0] // replaced by each restart
            .fetch('/v1/gc', { method: 'POST' })
            .then((r) => r.text())
            .catch(() => null)
            .finally(() => (settled = true));
          for (const x of doomed) bySha.set(sha(x), x);
          const marks = () =>
            db.query<{ sha256: string; gc_mark: string }>(
              'SELECT sha256, gc_mark FROM blobs WHERE gc_mark >= $1',
              [started],
            );
          while (!settled && (await count('WHERE gc_mark >= $1', [started])) === 0) await sleep(1);
          // Once it marks: pushes of bytes it holds marked right now, and of some it has yet to
          // reach (their leases keep them).
          const during = new Set((await marks()).rows.map((r) => r.sha256));
          for (let i = 1; i < doomed.length; i += 15) during.add(sha(doomed[i]));
          for (const [i, s] of [...during].entries())
            repush([b, d][i % 2], `/v1/sessions/during-${round}/artifacts/r${i}`, bySha.get(s)!);
          // A random few ms later, at the next sight of a mark.
          await sleep(randomInt(0, 30));
          while (!settled && (await count('WHERE gc_mark >= $1', [started])) === 0) await sleep(1);
          const conns = tcpPortsOf(c.nodes[0].proc.child.pid!, pgPort);
          expect(conns.length, 'node 0 has no connection to PostgreSQL').toBeGreaterThan(0);
          await c.kill9(0);
          figures.kills++;
          await gc;
          // What it left is known once PostgreSQL has finished the statements it had sent
          // (a DELETE of a row whose bytes are gone may still commit): its backends exit then.
          const open = 'SELECT count(*) AS n FROM pg_stat_activity WHERE client_port = ANY($1)';
          while (Number((await db.query<{ n: string }>(open, [conns])).rows[0].n) > 0)
            await sleep(5);
          const markedAt = new Map((await marks()).rows.map((r) => [r.sha256, Number(r.gc_mark)]));
          const left = [...markedAt.keys()];
          figures.marksLeft.push(left.length);
          for (const s of left) figures.markedBytesThere += Number(await stored(s));
          figures.unmarkedLeft.push(await count('WHERE refs <= 0 AND gc_mark IS NULL'));

          // The bytes of every other blob it left marked (deleted or not yet; the first
          // stays untouched, for the collection to take over), pushed again elsewhere: their
          // leases wait for the marks to turn stale.
          const untouched = left.filter((s) => !during.has(s));
          for (const [i, s] of untouched.entries())
            if (i % 2 === 1)
              repush(
                [b, d][(i >> 1) % 2],
                `/v1/sessions/after-${round}/artifacts/m${i}`,
                bySha.get(s)!,
                markedAt.get(s)! + MARK_STALE_MS,
              );
          await c.restart(0);
          if (untouched.length > 0) figures.rounds++;
        }

        expect(
          figures.markedBytesThere,
          'no kill came between a mark and its delete',
        ).toBeGreaterThan(0);

        // Every re-push is acknowledged (once the marks it met are stale) and reads back whole,
        // as does every keeper: nothing referenced was collected.
        for (const outcome of await Promise.all(pending)) if (outcome) throw outcome;
        await readsBack(c, held, 1);

        // Once the dead node's last mark is stale, one collection takes them all over: no
        // unreferenced row and no marked row stays, and fsck finds no orphan bytes.
        const last = Number(
          (await db.query<{ m: string }>('SELECT max(gc_mark) AS m FROM blobs')).rows[0].m ?? 0,
        );
        const marked = await count('WHERE gc_mark IS NOT NULL');
        await sleep(Math.max(0, last + MARK_STALE_MS + 500 - Date.now()));
        const sweep = (await (await c.nodes[1].fetch('/v1/gc', { method: 'POST' })).json()) as {
          blobs_freed: number;
        };
        expect(marked, 'no mark was left for the collection to take over').toBeGreaterThan(0);
        expect(sweep.blobs_freed).toBeGreaterThanOrEqual(marked);
        expect(await count('WHERE refs <= 0 OR gc_mark IS NOT NULL')).toBe(0);
        const fsck = (await (await c.nodes[2].fetch('/v1/fsck', { method: 'POST' })).json()) as {
          problems: unknown[];
        };
        expect(fsck.problems).toEqual([]);
        await readsBack(c, held, 2);
        console.log(
          `gc kill: ${JSON.stringify({ ...figures, heldMarksAtEnd: marked, freedByTakeover: sweep.blobs_freed, held: held.size })}`,
        );
      } finally {
        await db.end();
        await c.close();
      }
    },
    300_000 + (LONG ? ROUNDS * 120_000 : 0),
  );
});
