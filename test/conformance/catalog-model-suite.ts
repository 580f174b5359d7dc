import { expect, it } from 'vitest';
import type { Catalog, StoredArtifact, StoredSession } from '../../src/catalog/catalog.js';
import { artifactRecord, sessionRecord } from '../../src/core/records.js';
import type { ArtifactRecord, SessionRecord } from '../../src/core/types.js';
import { newId } from '../../src/lib/ids.js';
import { T0, SHA, art, code } from './fixtures.js';
import { LifecycleModel } from './lifecycle-model.js';

/** How many random histories, and how many steps each, by default. */
const RUNS = 30;
const STEPS = 60;
const SESSIONS = ['s0', 's1', 's2'];
const NAMES = ['a', 'b'];
/** Blobs, each with its own size (a blob's size is the same for every artifact holding it). */
const BLOBS = ['w', 'x', 'y', 'z'].map((c, i) => ({ sha256: SHA(c), size: 10 * (i + 1) }));

/** A small seeded generator (mulberry32): a failing seed replays the same history. */
function random(seed: number) {
  let t = seed >>> 0;
  const next = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  const chance = (p: number) => next() < p;
  return { int, pick, chance };
}

type Rng = ReturnType<typeof random>;
type Step = { op: string; run: () => Promise<void> };

const sorted = <T>(xs: T[], key: (x: T) => string) =>
  [...xs].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
/** The catalog's rows as the model states them: through core's one formatter (core/records.ts). */
const rec = (a: StoredArtifact | null): ArtifactRecord | null => a && artifactRecord(a);
const recs = (as: StoredArtifact[]): ArtifactRecord[] => as.map(artifactRecord);
const noUpdatedAt = (s: StoredSession | null) => {
  if (!s) return null;
  const { updated_at: _, ...rest }: SessionRecord = sessionRecord(s);
  return rest;
};

/**
 * The lifecycle rules of core/lifecycle.ts, checked on a real catalog: many random histories
 * (sessions pinned, sealed or open, with and without expiry; versions with their own expiries;
 * keep-last-N; deletes; sweeps; a clock that moves, and pushes stamped by a clock a little
 * behind) applied both to the catalog and to LifecycleModel, every answer and every read
 * compared after each step. A failure names the seed and the steps that led to it. `make` must
 * return a fresh, empty catalog on each call (one per history; it is closed afterwards); `runs`
 * below the default runs seeds 1..runs, a subset.
 */
export function runCatalogModelSuite(
  make: () => Promise<Catalog>,
  opts: { runs?: number; steps?: number } = {},
): void {
  it('every read, sweep and prune agrees with the lifecycle rules over random histories', async () => {
    for (let seed = 1; seed <= (opts.runs ?? RUNS); seed++) {
      const c = await make();
      const log: string[] = [];
      try {
        await history(c, random(seed), opts.steps ?? STEPS, log);
      } catch (e) {
        const steps = log.map((l, i) => `  ${i + 1}. ${l}`).join('\n');
        throw new Error(`seed ${seed}, after:\n${steps}\n${(e as Error).message}`, { cause: e });
      } finally {
        await c.close();
      }
    }
  });
}

async function history(c: Catalog, rng: Rng, steps: number, log: string[]): Promise<void> {
  const m = new LifecycleModel();
  const ids: string[] = [];
  let now = T0;
  for (let i = 0; i < steps; i++) {
    now += rng.chance(0.4) ? rng.int(1, 8) : 0;
    const step = choose(c, m, rng, now, ids);
    log.push(step.op);
    await step.run();
    // Reads at this instant and a little later (a boundary of some expiry, often).
    await compareReads(c, m, now, ids);
    await compareReads(c, m, now + rng.int(1, 6), ids);
  }
  expect(await c.audit.refMismatches(100)).toEqual([]);
  expect(await c.audit.sessionCountMismatches(100)).toEqual([]);
  expect(await c.audit.latestMismatches(100)).toEqual([]);
}

/** A TTL-like instant after `now`, or none. */
const later = (rng: Rng, now: number, pNone: number, most = 25) =>
  rng.chance(pNone) ? null : now + rng.int(1, most);

function choose(c: Catalog, m: LifecycleModel, rng: Rng, now: number, ids: string[]): Step {
  const sid = rng.pick(SESSIONS);
  const r = rng.int(0, 99);
  if (r < 45) {
    // A push, sometimes stamped by a node whose clock is a little behind: versions then do not
    // follow creation times.
    const blob = rng.pick(BLOBS);
    const a = {
      id: newId('a'),
      session: sid,
      name: rng.pick(NAMES),
      ...blob,
      createdAt: now - (rng.chance(0.3) ? rng.int(1, 15) : 0),
      expiresAt: later(rng, now, 0.6),
      sessionExpiresAt: later(rng, now, 0.7, 60),
    };
    ids.push(a.id);
    return {
      op: `push ${JSON.stringify(a)}`,
      run: async () => {
        const want = m.push(a);
        if (typeof want === 'string') {
          expect(await code(c.addArtifact(art(a)))).toBe(want);
          return;
        }
        expect(rec(await c.addArtifact(art(a)))).toEqual(m.record(m.sessions.get(sid)!, want));
      },
    };
  }
  if (r < 49) {
    const expiresAt = later(rng, now, 0.5);
    const keep = rng.chance(0.5) ? null : rng.int(1, 3);
    return {
      op: `create ${sid} expires=${expiresAt} keep=${keep} at ${now}`,
      run: async () => {
        const want = m.createSession(sid, expiresAt, keep, now);
        const got = c.createSession({ id: sid, meta: {}, expiresAt, keepVersions: keep, now });
        if (typeof want === 'string') expect(await code(got)).toBe(want);
        else expect(noUpdatedAt(await got)).toEqual(m.getSession(sid, now));
      },
    };
  }
  if (r < 57) {
    const k = rng.int(0, 3);
    const patch =
      k === 0
        ? { pinned: true }
        : k === 1
          ? { pinned: false }
          : k === 2
            ? { expiresAt: later(rng, now, 0.3) }
            : { keepVersions: rng.chance(0.3) ? null : rng.int(1, 3) };
    return {
      op: `update ${sid} ${JSON.stringify(patch)} at ${now}`,
      run: async () => {
        const want = m.update(sid, patch, now);
        const got = c.updateSession(sid, patch, now);
        // The record as changed, even when unpinning or a new expiry ends it at once.
        if (typeof want === 'string') expect(await code(got)).toBe(want);
        else expect(noUpdatedAt(await got)).toEqual(m.sessionRecord(want));
      },
    };
  }
  if (r < 61) {
    return {
      op: `seal ${sid} at ${now}`,
      run: async () => {
        const digest = `d${now}-${sid}`;
        const want = m.seal(sid, now, digest);
        let seen: ArtifactRecord[] | null = null;
        const got = c.sealSession(sid, now, (arts) => {
          seen = recs(arts);
          return { digest, signature: `sig-${digest}` };
        });
        if (want === 'not_found') return void expect(await code(got)).toBe(want);
        expect(noUpdatedAt(await got)).toEqual(m.getSession(sid, now));
        expect(seen).toEqual(want === 'unchanged' ? null : want);
      },
    };
  }
  if (r < 68) {
    // Mostly a live artifact; else any id pushed (maybe expired, maybe swept) or an unknown one.
    const live = m.query(now, {});
    const id =
      live.length > 0 && rng.chance(0.7)
        ? rng.pick(live).id
        : ids.length > 0 && rng.chance(0.8)
          ? rng.pick(ids)
          : newId('a');
    return {
      op: `delete artifact ${id} at ${now}`,
      run: async () => {
        const want = m.deleteArtifact(id, now);
        const got = c.deleteArtifact(id, now);
        if (typeof want === 'string') return void expect(await code(got)).toBe(want);
        const { artifact, blobUnreferenced } = await got;
        expect({ record: rec(artifact), unreferenced: blobUnreferenced }).toEqual(want);
      },
    };
  }
  if (r < 70) {
    return {
      op: `delete session ${sid} at ${now}`,
      run: async () => {
        const want = m.deleteSession(sid, now);
        const got = c.retention.deleteSession(sid, now);
        if (typeof want === 'string') return void expect(await code(got)).toBe(want);
        const { artifacts, unreferenced } = await got;
        expect({ artifacts, unreferenced: [...new Set(unreferenced)].sort() }).toEqual(want);
      },
    };
  }
  if (r < 86) {
    const name = rng.chance(0.5) ? rng.pick(NAMES) : null;
    const defaultKeep = rng.chance(0.2) ? undefined : rng.int(1, 2);
    return {
      op: `prune ${sid} name=${name} default=${defaultKeep} at ${now}`,
      run: async () => {
        const want = m.prune(sid, name, defaultKeep, now);
        const got = await c.retention.pruneVersions(sid, name, defaultKeep, now);
        expect({
          removed: sorted(recs(got.removed), (a) => a.id),
          unreferenced: [...new Set(got.unreferenced)].sort(),
        }).toEqual({ removed: sorted(want.removed, (a) => a.id), unreferenced: want.unreferenced });
      },
    };
  }
  const limit = rng.int(1, 6);
  return {
    op: `sweep in batches of ${limit} at ${now}`,
    run: async () => {
      const plan = await c.retention.plan(now);
      const wantPlan = m.plan(now);
      expect({ ...plan, sessions: [...plan.sessions].sort() }).toEqual(wantPlan);
      const want = m.sweep(now);
      const got = {
        sessions: [] as typeof want.sessions,
        rows: 0,
        artifacts: [] as ArtifactRecord[],
      };
      for (;;) {
        const b = await c.retention.sweepExpired(now, limit);
        expect(b.rows).toBeLessThanOrEqual(limit);
        got.sessions.push(...b.sessions);
        got.artifacts.push(...recs(b.artifacts));
        got.rows += b.sessionArtifactRows;
        if (b.rows === 0) break;
      }
      expect({
        sessions: sorted(got.sessions, (s) => s.id),
        sessionArtifactRows: got.rows,
        artifacts: sorted(got.artifacts, (a) => a.id),
      }).toEqual({
        sessions: sorted(want.sessions, (s) => s.id),
        sessionArtifactRows: want.sessionArtifactRows,
        artifacts: sorted(want.artifacts, (a) => a.id),
      });
    },
  };
}

/** Every read the catalog offers at `at`, compared with the model's. */
async function compareReads(c: Catalog, m: LifecycleModel, at: number, ids: string[]) {
  for (const id of SESSIONS) {
    expect(noUpdatedAt(await c.getSession(id, at)), `getSession ${id} at ${at}`).toEqual(
      m.getSession(id, at),
    );
    expect(recs(await c.sessionArtifacts(id, at)), `sessionArtifacts ${id} at ${at}`).toEqual(
      m.sessionArtifacts(id, at),
    );
    const latest = await c.queryArtifacts({ session: id, latest: true, limit: 1000 }, at);
    expect(recs(latest.items), `latest of ${id} at ${at}`).toEqual(
      m.query(at, { session: id, latest: true }),
    );
    for (const name of NAMES) {
      const top = m.sessions.get(id)?.counters.get(name) ?? 0;
      for (let v = 1; v <= top + 1; v++)
        expect(rec(await c.findArtifact(id, name, v, at)), `${id}/${name}@${v} at ${at}`).toEqual(
          m.findArtifact(id, name, v, at),
        );
      expect(rec(await c.findArtifact(id, name, undefined, at)), `${id}/${name} at ${at}`).toEqual(
        m.findArtifact(id, name, undefined, at),
      );
    }
  }
  for (const sealed of [undefined, true, false]) {
    const page = await c.listSessions({ limit: 100, sealed }, at);
    expect(page.items.map(noUpdatedAt), `sessions sealed=${sealed} at ${at}`).toEqual(
      m.listSessions(at, sealed),
    );
  }
  expect(recs((await c.queryArtifacts({ limit: 1000 }, at)).items), `query at ${at}`).toEqual(
    m.query(at, {}),
  );
  expect(recs((await c.queryArtifacts({ latest: true, limit: 1000 }, at)).items)).toEqual(
    m.query(at, { latest: true }),
  );
  for (const id of ids)
    expect(rec(await c.getArtifact(id, at)), `getArtifact ${id} at ${at}`).toEqual(
      m.getArtifact(id, at),
    );
  for (const b of BLOBS)
    expect(await c.blobRefs(b.sha256), `refs of ${b.sha256}`).toBe(m.refs(b.sha256));
  const unref = (await c.retention.unreferencedBlobs(100)).map((b) => b.sha256).sort();
  expect(unref, 'unreferenced blobs').toEqual(m.unreferenced());
}
