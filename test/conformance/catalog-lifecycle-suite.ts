import { expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { StoredShare } from '../../src/catalog/share-catalog.js';
import { newId } from '../../src/lib/ids.js';
import { T0, SHA, art, code } from './fixtures.js';

const STALE = 60_000;
const lease = (c: Catalog, id: string, sha: string, now = T0, until = now + 1000) =>
  c.leases.leaseBlobs(id, [sha], { now, until, staleMs: STALE });

const share = (over: Partial<StoredShare>): StoredShare => ({
  id: 'sh_1',
  tokenHash: 'h'.repeat(64),
  artifactId: null,
  sessionId: 's1',
  sessionCreatedAt: T0,
  createdAt: T0,
  expiresAt: T0 + 10_000,
  maxDownloads: null,
  downloads: 0,
  lastAccessAt: null,
  revokedAt: null,
  createdBy: null,
  ...over,
});

/**
 * The lifecycle rules every Catalog implementation must keep, one instance at a time: version
 * numbers, retention, leases and marks, idempotency claims, share links, imports, audit, stats.
 */
export function runCatalogLifecycleSuite(make: () => Promise<Catalog>): void {
  it('never gives a version number twice: not after a delete, a prune or a sweep of the newest', async () => {
    const c = await make();
    const push = (expiresAt: number | null = null) =>
      c.addArtifact(art({ session: 'v', expiresAt }));
    await push();
    const v2 = await push();
    await c.deleteArtifact(v2.id, T0);
    expect((await push()).version).toBe(3);
    await push();
    await c.retention.pruneVersions('v', 'out.txt', 1, T0);
    expect((await c.sessionArtifacts('v', T0)).map((a) => a.version)).toEqual([4]);
    await push(T0 + 5);
    await c.retention.sweepExpired(T0 + 10, 100);
    expect((await c.findArtifact('v', 'out.txt', undefined, T0 + 10))?.version).toBe(4);
    expect((await push()).version).toBe(6);
    // A deleted session's id starts afresh, its numbers with it.
    await c.retention.deleteSession('v', T0);
    expect((await push()).version).toBe(1);
  });

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
    expect(await c.getSession('k', T0)).toMatchObject({ artifact_count: 2 });
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
      artifact_count: 1,
      total_bytes: 10,
    });
    expect(await c.getArtifact(gone.id, T0 + 10)).toBeNull();
    expect(await c.findArtifact('p', 'out.txt', undefined, T0 + 10)).toBeNull();
    expect(await c.blobRefs(SHA('a'))).toBe(1);
    expect((await c.getArtifact(kept.id, T0 + 100))?.expires_at).toBeNull();
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
    expect(await c.getSession('stays', T0 + 10)).toMatchObject({ artifact_count: 1 });
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
      expires_at: new Date(T0 + 50).toISOString(),
      artifact_count: 2,
    });
    // Only what expired before the seal goes on its own; `short` stays with its session.
    const swept = await c.retention.sweepExpired(T0 + 10, 100);
    expect(swept.artifacts.map((a) => a.name)).toEqual(['gone']);
    const names = (await c.sessionArtifacts('sealed', T0 + 10)).map((a) => a.name);
    expect(names).toEqual(['long', 'short']);
    expect(await c.getSession('sealed', T0 + 10)).toMatchObject({ artifact_count: 2 });
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

  it('leases keep a blob from collection; a mark keeps leases and references away until it goes', async () => {
    const c = await make();
    expect(await lease(c, 'l1', SHA('a'))).toBe(true);
    expect(await c.leases.markBlob(SHA('a'), T0, STALE)).toBeNull();
    expect(await c.audit.blob(SHA('a'))).toBeNull(); // nothing marked, no row made
    // The push that held the lease gives it back with its row; deleting that row frees the blob.
    const rec = await c.addArtifact(art({ leaseId: 'l1' }));
    await c.deleteArtifact(rec.id, T0);
    const mark = await c.leases.markBlob(SHA('a'), T0, STALE);
    expect(mark).not.toBeNull();
    expect(await c.leases.markBlob(SHA('a'), T0 + 1, STALE)).toBeNull();
    expect(await lease(c, 'l2', SHA('a'), T0 + 1)).toBe(false);
    expect(await code(c.addArtifact(art()))).toBe('blob_being_collected');
    expect(await c.leases.dropMarkedBlob(SHA('a'), (mark as number) + 1)).toBe(false);
    expect(await c.leases.dropMarkedBlob(SHA('a'), mark as number)).toBe(true);
    expect(await c.audit.blob(SHA('a'))).toBeNull();
    expect(await lease(c, 'l2', SHA('a'), T0 + 1)).toBe(true);
    // An expired lease no longer protects; a released one neither.
    expect(await c.leases.markBlob(SHA('a'), T0 + 1, STALE)).toBeNull();
    expect(await c.leases.markBlob(SHA('a'), T0 + 2000, STALE)).not.toBeNull();
    expect(await lease(c, 'l3', SHA('b'))).toBe(true);
    await c.leases.releaseLease('l3');
    expect(await c.leases.markBlob(SHA('b'), T0, STALE)).not.toBeNull();
  });

  it('takes over a stale mark (a dead collector), by a lease or by another collector', async () => {
    const c = await make();
    const dead = await c.leases.markBlob(SHA('a'), T0, STALE); // orphan bytes: row made, marked
    expect(await c.audit.blob(SHA('a'))).toMatchObject({ refs: 0 });
    const later = T0 + STALE + 1;
    const taken = await c.leases.markBlob(SHA('a'), later, STALE);
    expect(taken).not.toBeNull();
    expect(taken).not.toBe(dead);
    expect(await c.leases.dropMarkedBlob(SHA('a'), dead as number)).toBe(false);
    expect(await lease(c, 'p', SHA('a'), later + STALE + 1)).toBe(true);
    expect(await c.leases.dropMarkedBlob(SHA('a'), taken as number)).toBe(false);
    const rec = await c.addArtifact(art({ leaseId: 'p' }));
    expect(await c.blobRefs(SHA('a'))).toBe(1);
    expect(rec.sha256).toBe(SHA('a'));
  });

  it('claims an idempotency key once; replays its answer; frees it on release or when the lease runs out', async () => {
    const c = await make();
    const o = (holder: string, now = T0, since = T0 - 1) => ({
      holder,
      request: 'PUT /a',
      now,
      leaseUntil: now + 100,
      since,
    });
    expect(await c.idempotency.claim('k', o('x'))).toEqual({ state: 'claimed' });
    expect(await c.idempotency.claim('k', o('x', T0 + 50))).toEqual({ state: 'claimed' });
    expect(await c.idempotency.claim('k', o('y', T0 + 120))).toEqual({
      state: 'busy',
      leaseUntil: T0 + 150,
      request: 'PUT /a',
    });
    expect(await c.idempotency.answer('k', T0 - 1)).toBeNull();
    const answer = { status: 201, body: '{"x":1}', request: 'PUT /a' };
    expect(await c.idempotency.finish('k', 'x', answer, T0 + 130)).toBe(true);
    expect(await c.idempotency.claim('k', o('y', T0 + 140))).toEqual({ state: 'done', answer });
    expect(await c.idempotency.answer('k', T0 + 130)).toEqual(answer);
    expect(await c.idempotency.answer('k', T0 + 131)).toBeNull();
    // An answer older than the window is forgotten: the key is free again.
    expect(await c.idempotency.claim('k', o('z', T0 + 200, T0 + 131))).toEqual({
      state: 'claimed',
    });
    await c.idempotency.release('k', 'z');
    expect(await c.idempotency.answer('k', 0)).toBeNull();
    // A claimant that crashed loses the key once its lease runs out; its late finish is refused.
    expect(await c.idempotency.claim('c', o('dead'))).toEqual({ state: 'claimed' });
    expect(await c.idempotency.claim('c', o('next', T0 + 101))).toEqual({ state: 'claimed' });
    expect(await c.idempotency.finish('c', 'dead', answer, T0 + 102)).toBe(false);
    expect(await c.idempotency.finish('c', 'next', answer, T0 + 102)).toBe(true);
  });

  it('keeps share links: lookup by hash and id, list, revoke once, downloads under the cap', async () => {
    const c = await make();
    await c.shares.add(share({ maxDownloads: 2 }));
    await c.shares.add(share({ id: 'sh_2', tokenHash: 'i'.repeat(64), createdAt: T0 + 1 }));
    expect((await c.shares.byHash('h'.repeat(64)))?.id).toBe('sh_1');
    expect(await c.shares.byHash('x'.repeat(64))).toBeNull();
    expect(await c.shares.get('nope')).toBeNull();
    expect((await c.shares.list(10)).map((s) => s.id)).toEqual(['sh_2', 'sh_1']);
    expect(await c.shares.claimDownload('sh_1', T0)).toBe(true);
    expect(await c.shares.claimDownload('sh_1', T0 + 1)).toBe(true);
    expect(await c.shares.claimDownload('sh_1', T0 + 2)).toBe(false);
    expect(await c.shares.get('sh_1')).toMatchObject({ downloads: 2, lastAccessAt: T0 + 1 });
    await c.shares.touch('sh_1', T0 + 3);
    expect((await c.shares.get('sh_1'))?.lastAccessAt).toBe(T0 + 3);
    expect(await c.shares.claimDownload('sh_2', T0 + 10_000)).toBe(false); // expired
    expect(await c.shares.revoke('sh_2', T0 + 5)).toBe(true);
    expect(await c.shares.revoke('sh_2', T0 + 6)).toBe(true);
    expect((await c.shares.get('sh_2'))?.revokedAt).toBe(T0 + 5);
    expect(await c.shares.claimDownload('sh_2', T0 + 7)).toBe(false);
    expect(await c.shares.revoke('nope', T0)).toBe(false);
  });

  it('imports a session whole; its names keep numbering past the imported versions', async () => {
    const c = await make();
    const imported = (version: number) => ({
      id: newId('a'),
      name: 'n',
      version,
      sha256: SHA('i'),
      size: 10,
      contentType: 'text/plain',
      meta: { k: 'v' },
      createdAt: T0,
      derivedFrom: [],
    });
    const s = await c.imports.importSession({
      ...baseImport(),
      id: 'imp',
      artifacts: [imported(1), imported(3)],
    });
    expect(s).toMatchObject({ id: 'imp', artifact_count: 2 });
    expect(await c.imports.sealKey('imp')).toBeNull();
    expect((await c.findArtifact('imp', 'n', undefined, T0))?.version).toBe(3);
    expect((await c.addArtifact(art({ session: 'imp', name: 'n' }))).version).toBe(4);
    expect(await c.blobRefs(SHA('i'))).toBe(2);
    expect(await code(c.imports.importSession({ ...baseImport(), id: 'imp' }))).toBe(
      'session_exists',
    );
  });

  it('audits a healthy catalog clean and counts what it holds', async () => {
    const c = await make();
    await c.addArtifact(art({ name: 'a', size: 10 }));
    await c.addArtifact(art({ name: 'b', size: 10 }));
    await c.addArtifact(art({ name: 'c', sha256: SHA('c'), size: 4 }));
    expect(await c.audit.integrity()).toEqual([]);
    expect(await c.audit.refMismatches(10)).toEqual([]);
    expect(await c.audit.sessionCountMismatches(10)).toEqual([]);
    expect(await c.audit.latestMismatches(10)).toEqual([]);
    expect(await c.audit.sizeMismatches(10)).toEqual([]);
    expect(await c.audit.artifactsWithoutBlobRow(10)).toEqual([]);
    expect((await c.audit.blobPage('', 1)).map((b) => b.sha256)).toEqual([SHA('a')]);
    expect((await c.audit.blobPage(SHA('a'), 10)).map((b) => b.sha256)).toEqual([SHA('c')]);
    expect(await c.stats.counts()).toEqual({
      sessions: 1,
      artifacts: 3,
      blobs: 2,
      blobBytes: 14,
      artifactBytes: 24,
    });
    const listed = [];
    for await (const b of c.listBlobs()) listed.push(b);
    expect(listed.sort((x, y) => x.sha256.localeCompare(y.sha256))).toEqual([
      { sha256: SHA('a'), size: 10, refs: 2 },
      { sha256: SHA('c'), size: 4, refs: 1 },
    ]);
  });
}

function baseImport() {
  return {
    meta: {},
    createdAt: T0,
    sealedAt: null,
    digest: null,
    signature: null,
    sealKey: null,
    expiresAt: null,
    artifacts: [],
    now: T0,
  };
}
