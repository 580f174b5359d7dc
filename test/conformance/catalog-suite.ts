import { expect, it } from 'vitest';
import type { Catalog, NewArtifact } from '../../src/catalog/catalog.js';
import { newId } from '../../src/lib/ids.js';
import { parseWhere } from '../../src/core/where-parser.js';
import { T0, SHA, art, code } from './fixtures.js';

/** The shared conformance suite every Catalog implementation must pass (its core methods). */
export function runCatalogSuite(make: () => Promise<Catalog>): void {
  it('creates the session on first push, versions repeated names, tracks latest and counters', async () => {
    const c = await make();
    const v1 = await c.addArtifact(art({ size: 5 }));
    const v2 = await c.addArtifact(art({ sha256: SHA('b'), size: 7 }));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect((await c.findArtifact('s1', 'out.txt', undefined, T0))?.id).toBe(v2.id);
    expect((await c.findArtifact('s1', 'out.txt', 1, T0))?.id).toBe(v1.id);
    const s = await c.getSession('s1', T0);
    expect(s).toMatchObject({ id: 's1', artifactCount: 2, totalBytes: 12, sealedAt: null });
    const latest = await c.queryArtifacts({ session: 's1', latest: true, limit: 10 }, T0);
    expect(latest.items.map((a) => a.id)).toEqual([v2.id]);
  });

  it('returns from addArtifact exactly the record a read gives back (expiry, lineage, meta)', async () => {
    const c = await make();
    const parent = await c.addArtifact(art({ session: 'plain', name: 'p' }));
    const cases: [string, Partial<NewArtifact>][] = [
      ['plain', { name: 'n1', meta: { k: 'v', b: '2' }, derivedFrom: [parent.id, parent.id] }],
      ['plain', { name: 'n1', expiresAt: T0 + 5_000 }],
      ['ttl', { name: 'n', sessionExpiresAt: T0 + 9_000 }],
      ['ttl', { name: 'shorter', expiresAt: T0 + 3_000 }],
      ['ttl', { name: 'longer', expiresAt: T0 + 60_000 }],
      ['pinned', { name: 'n', expiresAt: T0 + 3_000 }],
    ];
    await c.createSession({ id: 'pinned', meta: {}, expiresAt: T0 + 9_000, now: T0 });
    await c.updateSession('pinned', { pinned: true }, T0);
    for (const [session, over] of cases) {
      const rec = await c.addArtifact(art({ session, ...over }));
      expect(await c.getArtifact(rec.id, T0)).toEqual(rec);
    }
  });

  it('counts blob references and reports when the last one goes', async () => {
    const c = await make();
    const a = await c.addArtifact(art({ name: 'a' }));
    const b = await c.addArtifact(art({ name: 'b' }));
    expect(await c.blobRefs(SHA('a'))).toBe(2);
    expect((await c.deleteArtifact(a.id, T0)).blobUnreferenced).toBe(false);
    expect(await c.leases.markBlob(SHA('a'), T0, 1000)).toBeNull();
    expect((await c.deleteArtifact(b.id, T0)).blobUnreferenced).toBe(true);
    expect(await c.blobRefs(SHA('a'))).toBe(0);
    const mark = await c.leases.markBlob(SHA('a'), T0, 1000);
    expect(mark).not.toBeNull();
    expect(await c.leases.dropMarkedBlob(SHA('a'), mark as number)).toBe(true);
    expect(await c.audit.blob(SHA('a'))).toBeNull();
    expect(await c.getSession('s1', T0)).toMatchObject({ artifactCount: 0, totalBytes: 0 });
  });

  it('promotes the previous version when the latest is deleted', async () => {
    const c = await make();
    const v1 = await c.addArtifact(art());
    const v2 = await c.addArtifact(art());
    await c.deleteArtifact(v2.id, T0);
    expect((await c.findArtifact('s1', 'out.txt', undefined, T0))?.id).toBe(v1.id);
  });

  it('seals once, with the digest computed over exactly the live artifacts, and then refuses changes', async () => {
    const c = await make();
    const a = await c.addArtifact(art());
    let seen: string[] = [];
    const sealed = await c.sealSession('s1', T0 + 1, (arts) => {
      seen = arts.map((x) => x.id);
      return { digest: 'd1', signature: 'sig' };
    });
    expect(seen).toEqual([a.id]);
    expect(sealed).toMatchObject({ sealedAt: T0 + 1, digest: 'd1', signature: 'sig' });
    const again = await c.sealSession('s1', T0 + 2, () => ({ digest: 'other', signature: 'x' }));
    expect(again.digest).toBe('d1');
    expect(await code(c.addArtifact(art()))).toBe('session_sealed');
    expect(await code(c.deleteArtifact(a.id, T0))).toBe('session_sealed');
    expect(await code(c.updateSession('s1', { meta: { k: 'v' } }, T0))).toBe('session_sealed');
    expect(await code(c.sealSession('nope', T0, () => ({ digest: '', signature: '' })))).toBe(
      'not_found',
    );
  });

  it('rejects unknown derived_from ids and records known ones', async () => {
    const c = await make();
    expect(await code(c.addArtifact(art({ derivedFrom: [newId('a')] })))).toBe(
      'invalid_derived_from',
    );
    const parent = await c.addArtifact(art({ name: 'in' }));
    const child = await c.addArtifact(
      art({ session: 's2', name: 'out', derivedFrom: [parent.id] }),
    );
    expect(child.derivedFrom).toEqual([parent.id]);
    expect((await c.derivedFrom(parent.id, T0)).map((x) => x.id)).toEqual([child.id]);
  });

  it('filters by metadata (equality AND, prefix, exists), type family, name glob and time', async () => {
    const c = await make();
    const a = await c.addArtifact(
      art({
        name: 'r/a.json',
        contentType: 'application/json',
        meta: { agent: 'claude', stage: 'qa' },
        createdAt: T0,
      }),
    );
    const b = await c.addArtifact(
      art({
        name: 'r/b.png',
        contentType: 'image/png',
        meta: { agent: 'claude-2', stage: 'prod' },
        createdAt: T0 + 10,
      }),
    );
    const d = await c.addArtifact(
      art({ name: 'c.txt', meta: { agent: 'gpt' }, createdAt: T0 + 20 }),
    );
    const ids = async (q: Parameters<Catalog['queryArtifacts']>[0]) =>
      (await c.queryArtifacts(q, T0 + 30)).items.map((x) => x.id);
    expect(
      await ids({
        meta: [
          { key: 'agent', op: 'eq', value: 'claude' },
          { key: 'stage', op: 'eq', value: 'qa' },
        ],
        limit: 10,
      }),
    ).toEqual([a.id]);
    expect(
      await ids({
        meta: [
          { key: 'agent', op: 'eq', value: 'claude' },
          { key: 'stage', op: 'eq', value: 'prod' },
        ],
        limit: 10,
      }),
    ).toEqual([]);
    expect(
      await ids({ meta: [{ key: 'agent', op: 'prefix', value: 'claude' }], limit: 10 }),
    ).toEqual([b.id, a.id]);
    expect(await ids({ meta: [{ key: 'stage', op: 'exists' }], limit: 10 })).toEqual([b.id, a.id]);
    expect(await ids({ type: 'image/*', limit: 10 })).toEqual([b.id]);
    expect(await ids({ type: 'application/json', limit: 10 })).toEqual([a.id]);
    expect(await ids({ name: 'r/*', limit: 10 })).toEqual([b.id, a.id]);
    expect(await ids({ since: T0 + 10, until: T0 + 20, limit: 10 })).toEqual([b.id]);
    expect(await ids({ limit: 10 })).toEqual([d.id, b.id, a.id]);
  });

  it('pages with an opaque cursor, newest first, without gaps or repeats', async () => {
    const c = await make();
    const made: string[] = [];
    for (let i = 0; i < 25; i++) made.push((await c.addArtifact(art({ name: `f${i}` }))).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await c.queryArtifacts({ limit: 7, cursor }, T0);
      seen.push(...page.items.map((x) => x.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(made.reverse());
    expect(await code(c.queryArtifacts({ limit: 5, cursor: 'garbage' }, T0))).toBe(
      'invalid_cursor',
    );
  });

  it('hides expired artifacts and sessions from every read at once', async () => {
    const c = await make();
    const a = await c.addArtifact(art({ expiresAt: T0 + 100 }));
    expect(await c.getArtifact(a.id, T0 + 99)).not.toBeNull();
    expect(await c.getArtifact(a.id, T0 + 100)).toBeNull();
    expect(await c.findArtifact('s1', 'out.txt', undefined, T0 + 100)).toBeNull();
    expect((await c.queryArtifacts({ limit: 10 }, T0 + 100)).items).toEqual([]);
    await c.createSession({ id: 'short', meta: {}, expiresAt: T0 + 50, now: T0 });
    expect(await c.getSession('short', T0 + 49)).not.toBeNull();
    expect(await c.getSession('short', T0 + 50)).toBeNull();
    expect((await c.listSessions({ limit: 10 }, T0 + 50)).items.map((s) => s.id)).toEqual(['s1']);
  });

  it('creates sessions explicitly (conflict on repeat) and filters them', async () => {
    const c = await make();
    await c.createSession({ id: 'run_1', meta: { team: 'billing' }, expiresAt: null, now: T0 });
    await c.createSession({ id: 'run_2', meta: { team: 'search' }, expiresAt: null, now: T0 });
    expect(await code(c.createSession({ id: 'run_1', meta: {}, expiresAt: null, now: T0 }))).toBe(
      'session_exists',
    );
    await c.sealSession('run_2', T0, () => ({ digest: 'd', signature: 's' }));
    const ids = async (q: Parameters<Catalog['listSessions']>[0]) =>
      (await c.listSessions(q, T0)).items.map((s) => s.id);
    expect(await ids({ limit: 10 })).toEqual(['run_2', 'run_1']);
    expect(await ids({ sealed: true, limit: 10 })).toEqual(['run_2']);
    expect(await ids({ sealed: false, limit: 10 })).toEqual(['run_1']);
    expect(await ids({ meta: [{ key: 'team', op: 'eq', value: 'billing' }], limit: 10 })).toEqual([
      'run_1',
    ]);
    expect(await ids({ idContains: '_2', limit: 10 })).toEqual(['run_2']);
    const updated = await c.updateSession('run_1', { meta: { team: 'ops' } }, T0 + 5);
    expect(updated.meta).toEqual({ team: 'ops' });
    expect(await ids({ meta: [{ key: 'team', op: 'eq', value: 'ops' }], limit: 10 })).toEqual([
      'run_1',
    ]);
  });

  it('evaluates where expressions (numeric when both sides are numbers, glob, in, not)', async () => {
    const c = await make();
    const hi = await c.addArtifact(
      art({ name: 'a', meta: { agent: 'claude', score: '0.95', stage: 'qa' } }),
    );
    const lo = await c.addArtifact(
      art({ name: 'b', meta: { agent: 'claude', score: '10', stage: 'dev' } }),
    );
    const other = await c.addArtifact(art({ name: 'c', meta: { agent: 'gpt', score: '0.5' } }));
    const ids = async (w: string) =>
      (await c.queryArtifacts({ where: parseWhere(w), limit: 10 }, T0)).items
        .map((x) => x.id)
        .sort();
    expect(await ids("agent = 'claude' and (score >= 0.9 or stage in ('qa','prod'))")).toEqual(
      [hi.id, lo.id].sort(),
    );
    expect(await ids('score > 2')).toEqual([lo.id]);
    expect(await ids("score > '2'")).toEqual([]);
    expect(await ids("name ~ '[ab]'")).toEqual([hi.id, lo.id].sort());
    expect(await ids('not stage exists')).toEqual([other.id]);
    expect(await ids("agent != 'claude'")).toEqual([other.id]);
  });

  it('stores tokens by hash', async () => {
    const c = await make();
    await c.addToken({
      id: 't_1',
      name: 'ci',
      hash: 'h'.repeat(64),
      scope: 'write',
      sessions: 'run_*',
      createdAt: T0,
      lastUsedAt: null,
    });
    expect(await c.findToken('h'.repeat(64), T0)).toMatchObject({
      id: 't_1',
      scope: 'write',
      sessions: 'run_*',
    });
    expect(await c.findToken('x'.repeat(64), T0)).toBeNull();
    expect(await c.countTokens('write')).toBe(1);
    expect((await c.listTokens()).map((t) => t.id)).toEqual(['t_1']);
    await c.deleteToken('t_1');
    expect(await code(c.deleteToken('t_1'))).toBe('not_found');
  });

  it('commits concurrent writes (group commit) each with its own outcome', async () => {
    const c = await make();
    await c.createSession({ id: 'closed', meta: {}, expiresAt: null, now: T0 });
    await c.sealSession('closed', T0, () => ({ digest: 'd', signature: 's' }));
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        c.addArtifact(art({ session: i % 10 === 0 ? 'closed' : 'open', name: `n${i}` })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(45);
    expect(results.filter((r) => r.status === 'rejected').length).toBe(5);
    expect((await c.getSession('open', T0))?.artifactCount).toBe(45);
  });
}
