import { expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import { T0, SHA, art, code } from './fixtures.js';

/**
 * Named retention cases (part of runCatalogLifecycleSuite): keep-last-N, pinning, sweeps and
 * session deletion, each a hard case of the rules in core/lifecycle.ts that
 * runCatalogModelSuite also checks at random.
 */
export function runCatalogRetentionCases(make: () => Promise<Catalog>): void {
  it('keeps the newest N live versions per name, the session setting winning, never in a sealed session', async () => {
    const c = await make();
    for (let i = 0; i < 5; i++)
      await c.addArtifact(art({ session: 'k', sha256: SHA('ab'[i % 2]) }));
    await c.addArtifact(art({ session: 'k', name: 'other' }));
    expect((await c.retention.pruneVersions('k', null, undefined, T0)).removed).toEqual([]);
    const r = await c.retention.pruneVersions('k', 'out.txt', 3, T0);
    expect(r.removed.map((a) => a.version).sort()).toEqual([1, 2]);
    expect(r.unreferenced).toEqual([]);
    await c.updateSession('k', { keepVersions: 1 }, T0);
    const all = await c.retention.pruneVersions('k', null, 3, T0);
    expect(all.removed.map((a) => a.version).sort()).toEqual([3, 4]);
    expect((await c.sessionArtifacts('k', T0)).map((a) => `${a.name}@${a.version}`)).toEqual([
      'other@1',
      'out.txt@5',
    ]);
    expect(await c.getSession('k', T0)).toMatchObject({ artifactCount: 2 });
    expect(await c.blobRefs(SHA('a'))).toBe(2);
    expect(await c.blobRefs(SHA('b'))).toBe(0);
    await c.addArtifact(art({ session: 'k' }));
    await c.sealSession('k', T0, () => ({ digest: 'd', signature: 's' }));
    expect((await c.retention.pruneVersions('k', null, 1, T0)).removed).toEqual([]);
  });

  it('keeps the highest version numbers, not the newest times: pushes stamped by a clock behind', async () => {
    const c = await make();
    // Versions 1..4, the later ones from a node whose clock runs behind the first one's.
    const at = [T0 + 30, T0 + 40, T0 + 10, T0 + 20];
    for (const createdAt of at) await c.addArtifact(art({ session: 'skew', createdAt }));
    const r = await c.retention.pruneVersions('skew', 'out.txt', 2, T0 + 50);
    expect(r.removed.map((a) => a.version).sort()).toEqual([1, 2]);
    expect((await c.sessionArtifacts('skew', T0 + 50)).map((a) => a.version)).toEqual([3, 4]);
  });

  it('pinning keeps what is live and never brings back what had expired, swept or not', async () => {
    const c = await make();
    const gone = await c.addArtifact(art({ session: 'p', expiresAt: T0 + 5 }));
    const kept = await c.addArtifact(art({ session: 'p', name: 'k', expiresAt: T0 + 50 }));
    // Expired at T0 + 10, not swept yet: the pin removes it as the sweep would.
    expect(await c.updateSession('p', { pinned: true }, T0 + 10)).toMatchObject({
      artifactCount: 1,
      totalBytes: 10,
    });
    expect(await c.getArtifact(gone.id, T0 + 10)).toBeNull();
    expect(await c.findArtifact('p', 'out.txt', undefined, T0 + 10)).toBeNull();
    expect(await c.blobRefs(SHA('a'))).toBe(1);
    expect((await c.getArtifact(kept.id, T0 + 100))?.expiresAt).toBeNull();
    // The same in a sealed session: a row that expired before the seal is not in its manifest.
    await c.addArtifact(art({ session: 'q', expiresAt: T0 + 5 }));
    await c.addArtifact(art({ session: 'q', name: 'k' }));
    await c.sealSession('q', T0 + 10, () => ({ digest: 'd', signature: 's' }));
    await c.updateSession('q', { pinned: true }, T0 + 20);
    expect((await c.sessionArtifacts('q', T0 + 20)).map((a) => a.name)).toEqual(['k']);
  });

  it('sweeps expired sessions whole and expired artifacts alone, in bounded batches, and plans it first', async () => {
    const c = await make();
    for (let i = 0; i < 3; i++)
      await c.addArtifact(
        art({ session: 'gone', name: `f${i}`, sha256: SHA('g'), sessionExpiresAt: T0 + 5 }),
      );
    await c.addArtifact(
      art({ session: 'stays', name: 'old', sha256: SHA('o'), expiresAt: T0 + 5 }),
    );
    await c.addArtifact(art({ session: 'stays', name: 'new', sha256: SHA('n') }));
    const plan = await c.retention.plan(T0 + 10);
    expect(plan).toMatchObject({
      sessions: ['gone'],
      sessionCount: 1,
      artifacts: 4,
      blobs: 2,
      bytes: 20,
    });
    const first = await c.retention.sweepExpired(T0 + 10, 2);
    expect(first.rows).toBe(2);
    let rest = await c.retention.sweepExpired(T0 + 10, 100);
    expect(rest.sessions).toEqual([{ id: 'gone', artifacts: 3 }]);
    expect(first.sessionArtifactRows + rest.sessionArtifactRows).toBe(3);
    expect(rest.artifacts.map((a) => a.name)).toEqual(['old']);
    rest = await c.retention.sweepExpired(T0 + 10, 100);
    expect(rest.rows).toBe(0);
    expect((await c.retention.unreferencedBlobs(10)).map((b) => b.sha256).sort()).toEqual([
      SHA('g'),
      SHA('o'),
    ]);
    // In sha256 order, from just after a cursor: a sweep walks past rows it cannot collect.
    const ordered = [SHA('g'), SHA('o')].sort();
    expect((await c.retention.unreferencedBlobs(1)).map((b) => b.sha256)).toEqual([ordered[0]]);
    const next = await c.retention.unreferencedBlobs(1, ordered[0]);
    expect(next).toEqual([{ sha256: ordered[1], size: 10 }]);
    expect(await c.retention.unreferencedBlobs(10, ordered[1])).toEqual([]);
    expect(await c.getSession('stays', T0 + 10)).toMatchObject({ artifactCount: 1 });
  });

  it('sweeps a sealed session whole, never its manifest rows one by one', async () => {
    const c = await make();
    const push = (name: string, expiresAt: number) =>
      c.addArtifact(art({ session: 'sealed', name, expiresAt }));
    await push('gone', T0 + 1);
    await push('short', T0 + 5);
    await push('long', T0 + 50);
    const sealed = await c.sealSession('sealed', T0 + 2, () => ({ digest: 'd', signature: 's' }));
    expect(sealed).toMatchObject({
      expiresAt: T0 + 50,
      artifactCount: 2,
    });
    // Only what expired before the seal goes on its own; `short` stays with its session.
    const swept = await c.retention.sweepExpired(T0 + 10, 100);
    expect(swept.artifacts.map((a) => a.name)).toEqual(['gone']);
    const names = (await c.sessionArtifacts('sealed', T0 + 10)).map((a) => a.name);
    expect(names).toEqual(['long', 'short']);
    expect(await c.getSession('sealed', T0 + 10)).toMatchObject({ artifactCount: 2 });
    const whole = await c.retention.sweepExpired(T0 + 50, 100);
    expect(whole.sessions).toEqual([{ id: 'sealed', artifacts: 2 }]);
    expect(whole.sessionArtifactRows).toBe(2);
  });

  it('deletes open sessions only, giving back one reference per row', async () => {
    const c = await make();
    await c.addArtifact(art({ session: 'del', name: 'a' }));
    await c.addArtifact(art({ session: 'del', name: 'b' }));
    await c.addArtifact(art({ session: 'keep', name: 'a' }));
    expect(await c.retention.deleteSession('del', T0)).toEqual({ artifacts: 2, unreferenced: [] });
    expect(await code(c.retention.deleteSession('del', T0))).toBe('not_found');
    expect(await c.blobRefs(SHA('a'))).toBe(1);
    await c.sealSession('keep', T0, () => ({ digest: 'd', signature: 's' }));
    expect(await code(c.retention.deleteSession('keep', T0))).toBe('session_sealed');
  });
}
