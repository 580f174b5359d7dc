import { createHash, randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';

/** `fetch` against one node with the admin token; `n` picks the node (round-robin). */
export type NodeFetch = (n: number, path: string, init?: RequestInit) => Promise<Response>;

/** One request of the load and what it got. */
export interface Outcome {
  op: 'push' | 'read';
  session: string;
  name: string;
  /** sha256 of the body pushed (or expected, for a read). */
  sha: string;
  /** Bytes pushed (0 for a read). */
  size: number;
  /** HTTP status; 0 when the connection failed (the node died under it). */
  status: number;
  /** The error envelope's code, for a 4xx/5xx. */
  code?: string;
  retryAfter: string | null;
  /** The artifact id a 201 gave. */
  id?: string;
  /** performance.now() when sent and when answered. */
  sentAt: number;
  doneAt: number;
}

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Concurrent pushes (a few names per session, raced by several workers, so versions race too)
 * and reads of acknowledged artifacts, spread over the nodes, each request's outcome kept for
 * the checks after an engine outage. Bodies: most inline-sized (≤ 64 KiB, kept in the catalog),
 * some larger (in the blob store). A worker's failed check ends the run at once (see
 * {@link Load.waitFor}).
 */
export class Load {
  readonly outcomes: Outcome[] = [];
  /** sha256 of every body sent, acknowledged or not. */
  readonly sent = new Set<string>();
  readonly sessions: string[];
  private stopped = false;
  private running: Promise<void[]> | null = null;
  private readonly acked: Outcome[] = [];

  constructor(
    private readonly fetchNode: NodeFetch,
    private readonly o: {
      workers: number;
      sessions: number;
      names: number;
      tag: string;
      /** Requests may go unanswered (the test kills nodes). */
      cuts?: boolean;
    },
  ) {
    this.sessions = Array.from({ length: o.sessions }, (_, i) => `${o.tag}-${i}`);
  }

  /** Starts the workers (again, after {@link stop}). */
  start(): void {
    this.stopped = false;
    this.running = Promise.all(Array.from({ length: this.o.workers }, (_, w) => this.worker(w)));
  }

  /** Stops the workers and waits for their last requests. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Waits until `pred` holds (checked every 10 ms), failing at once if a worker failed. */
  async waitFor(pred: () => boolean, what: string, maxMs = 30_000): Promise<void> {
    const until = performance.now() + maxMs;
    while (!pred()) {
      if (performance.now() > until)
        throw new Error(`load: still waiting for ${what}: ${JSON.stringify(this.summary())}`);
      await Promise.race([sleep(10), this.running]);
    }
  }

  /** Counts of outcomes by status (for failure messages). */
  summary(): Record<number, number> {
    const by: Record<number, number> = {};
    for (const o of this.outcomes) by[o.status] = (by[o.status] ?? 0) + 1;
    return by;
  }

  /** Outcomes with `status` (and answered after `after`, if given). */
  count(status: number, after = -Infinity): number {
    return this.outcomes.filter((x) => x.status === status && x.doneAt > after).length;
  }

  private async worker(w: number): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      if (i % 4 === 3 && this.acked.length > 0) await this.read(w + i);
      else await this.push(w, i);
    }
  }

  private async push(w: number, i: number): Promise<void> {
    const body =
      Math.random() < 0.6
        ? randomBytes(randomInt(10, 20_000))
        : randomBytes(randomInt(70_000, 250_000));
    const session = this.sessions[(w + i) % this.sessions.length];
    const name = `f${randomInt(this.o.names)}.bin`;
    const sha = sha256(body);
    this.sent.add(sha);
    const o = await this.call(
      w + i,
      { op: 'push', session, name, sha, size: body.length },
      `/v1/sessions/${session}/artifacts/${name}`,
      { method: 'PUT', body },
    );
    if (o.status === 201) this.acked.push(o);
  }

  private async read(n: number): Promise<void> {
    const { session, name, sha, id } = this.acked[randomInt(this.acked.length)];
    await this.call(n, { op: 'read', session, name, sha, size: 0 }, `/v1/artifacts/${id}/content`);
  }

  /**
   * One request to node `n`, its outcome recorded; checks what every answer must be whatever
   * the engines' state.
   */
  private async call(
    n: number,
    req: Pick<Outcome, 'op' | 'session' | 'name' | 'sha' | 'size'>,
    path: string,
    init: RequestInit = {},
  ): Promise<Outcome> {
    const { op, session, name, sha } = req;
    const o: Outcome = {
      ...req,
      status: 0,
      retryAfter: null,
      sentAt: performance.now(),
      doneAt: 0,
    };
    let res: Response;
    try {
      res = await this.fetchNode(n, path, init);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      // Only a test that kills nodes expects these; else the node died of the outage.
      const why = `${op} ${session}/${name}: no answer (${(err.cause as Error | undefined)?.message ?? err.message})`;
      if (!this.o.cuts) expect.fail(`${why}: the node died`);
      o.doneAt = performance.now();
      this.outcomes.push(o); // the node died under it: outcome unknown
      return o;
    }
    o.status = res.status;
    o.retryAfter = res.headers.get('retry-after');
    const bytes = Buffer.from(await res.arrayBuffer());
    o.doneAt = performance.now();
    this.outcomes.push(o);
    const what = `${op} ${session}/${name}: ${res.status} ${bytes.subarray(0, 300).toString()}`;
    if (res.status === 503) await sleep(20); // as a client would, briefly (not the full Retry-After)
    if (res.status === 201 && op === 'push') {
      o.id = (JSON.parse(bytes.toString()) as { id: string }).id;
    } else if (res.status === 200 && op === 'read') {
      expect(sha256(bytes), what).toBe(sha);
    } else {
      // Anything else is an outage answer: 503, Retry-After, the JSON envelope, a known code.
      expect(res.status, what).toBe(503);
      expect(o.retryAfter, what).toMatch(/^\d+$/);
      const env = JSON.parse(bytes.toString()) as { error: { code: string; message: string } };
      // catalog_busy: serialization reruns ran out (a hot name under load), retryable too.
      expect(['catalog_unavailable', 'blob_store_unavailable', 'catalog_busy'], what).toContain(
        env.error.code,
      );
      expect(env.error.message, what).toMatch(/retry/i);
      o.code = env.error.code;
    }
    return o;
  }

  /** How many pushes were answered 503. */
  refusedPushes(): number {
    return this.outcomes.filter((x) => x.op === 'push' && x.status === 503).length;
  }

  /** Every push answered 201. */
  acknowledged(): Outcome[] {
    return this.outcomes.filter((x) => x.op === 'push' && x.status === 201);
  }

  /**
   * The checks once the engines are back: every acknowledged push reads back byte-identical
   * (through the nodes in turn); everything listed is whole and a body a client sent (a push
   * refused with 503 is absent, or whole if its commit went through just before the answer was
   * lost); each name's versions are exactly 1..N; fsck finds nothing but orphan bytes (a push
   * refused after its bytes were stored leaves them for GC). Returns how many artifacts are
   * listed and the orphans fsck saw.
   */
  async verify(
    fetchNode: NodeFetch = this.fetchNode,
  ): Promise<{ listed: number; orphans: number }> {
    let k = 0;
    for (const a of this.acknowledged()) {
      const res = await fetchNode(k++, `/v1/artifacts/${a.id}/content`);
      expect(res.status, `acknowledged ${a.session}/${a.name} (${a.id})`).toBe(200);
      expect(sha256(new Uint8Array(await res.arrayBuffer())), a.id).toBe(a.sha);
    }
    const byId = new Map(this.acknowledged().map((a) => [a.id, a]));
    let listed = 0;
    const ids = new Set<string>();
    for (const session of this.sessions) {
      const items = await listSession(fetchNode, k++, session);
      listed += items.length;
      const versions = new Map<string, number[]>();
      for (const it of items) {
        ids.add(it.id);
        expect(
          this.sent.has(it.sha256),
          `${session}/${it.name} v${it.version}: a body never sent`,
        ).toBe(true);
        const acked = byId.get(it.id);
        if (acked) {
          expect(it.sha256, it.id).toBe(acked.sha); // its bytes were read above
        } else {
          const res = await fetchNode(k++, `/v1/artifacts/${it.id}/content`);
          expect(res.status, it.id).toBe(200);
          expect(sha256(new Uint8Array(await res.arrayBuffer())), it.id).toBe(it.sha256);
        }
        versions.set(it.name, [...(versions.get(it.name) ?? []), it.version]);
      }
      for (const [name, v] of versions)
        expect(
          v.sort((a, b) => a - b),
          `${session}/${name}: versions dense`,
        ).toEqual(v.map((_, i) => i + 1));
    }
    for (const a of this.acknowledged()) expect(ids.has(a.id ?? ''), a.id).toBe(true);
    const fsck = (await (await fetchNode(k++, '/v1/fsck', { method: 'POST' })).json()) as {
      problems: { kind: string }[];
    };
    expect(fsck.problems.filter((p) => p.kind !== 'orphan')).toEqual([]);
    return { listed, orphans: fsck.problems.length };
  }
}

interface Listed {
  id: string;
  name: string;
  version: number;
  sha256: string;
}

/** Every version of every artifact of `session` (all pages). */
async function listSession(fetchNode: NodeFetch, n: number, session: string): Promise<Listed[]> {
  const out: Listed[] = [];
  let cursor = '';
  do {
    const q = `session=${session}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await fetchNode(n, `/v1/artifacts?${q}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Listed[]; next_cursor?: string | null };
    out.push(...page.items);
    cursor = page.next_cursor ?? '';
  } while (cursor);
  return out;
}

/**
 * Polls `GET /healthz` of node `n` until its answer satisfies `pred` (within `maxMs`); returns
 * the last answer's status and body.
 */
export async function healthUntil(
  fetchNode: NodeFetch,
  n: number,
  pred: (status: number, body: Record<string, unknown>) => boolean,
  maxMs = 30_000,
): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const until = performance.now() + maxMs;
  for (;;) {
    const res = await fetchNode(n, '/healthz');
    const body = (await res.json()) as Record<string, unknown>;
    const last = { status: res.status, body, retryAfter: res.headers.get('retry-after') };
    if (pred(res.status, body) || performance.now() > until) return last;
    await sleep(20);
  }
}
