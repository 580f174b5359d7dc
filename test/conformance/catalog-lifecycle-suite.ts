import { expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { StoredShare } from '../../src/catalog/share-catalog.js';
import { newId } from '../../src/lib/ids.js';
import { runCatalogRetentionCases } from './catalog-retention-cases.js';
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
  runCatalogRetentionCases(make);

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

  it('lists blobs whose leases all ran out, a batch at a time, and drops only expired leases', async () => {
    const c = await make();
    await lease(c, 'dead1', SHA('a')); // until T0 + 1000
    await lease(c, 'dead2', SHA('b'));
    await lease(c, 'dead3', SHA('c'), T0, T0 + 5000);
    await lease(c, 'old', SHA('d'));
    await lease(c, 'live', SHA('d'), T0, T0 + 5000); // one live lease keeps it off the list
    expect(await c.leases.expiredLeases(T0 + 999, 10)).toEqual([]);
    const now = T0 + 1000;
    expect((await c.leases.expiredLeases(now, 10)).sort()).toEqual([SHA('a'), SHA('b')]);
    expect(await c.leases.expiredLeases(now, 1)).toHaveLength(1);
    // The sweep's protocol: an orphan (no row) is marked and dropped; a referenced one is kept.
    const rec = await c.addArtifact(art({ sha256: SHA('b') }));
    expect(await c.leases.markBlob(SHA('b'), now, STALE)).toBeNull();
    const mark = await c.leases.markBlob(SHA('a'), now, STALE);
    expect(mark).not.toBeNull();
    expect(await c.leases.dropMarkedBlob(SHA('a'), mark as number)).toBe(true);
    await c.leases.dropExpiredLeases([SHA('a'), SHA('b'), SHA('d')], now);
    expect(await c.leases.expiredLeases(now, 10)).toEqual([]);
    expect(await c.blobRefs(rec.sha256)).toBe(1);
    // The live lease on d stayed: d is not markable, and is listed once that lease runs out.
    expect(await c.leases.markBlob(SHA('d'), now, STALE)).toBeNull();
    expect((await c.leases.expiredLeases(T0 + 5000, 10)).sort()).toEqual([SHA('c'), SHA('d')]);
    await c.leases.dropExpiredLeases([SHA('c'), SHA('d')], T0 + 5000);
    expect(await c.leases.expiredLeases(T0 + 5000, 10)).toEqual([]);
    expect(await c.leases.markBlob(SHA('d'), T0 + 5000, STALE)).not.toBeNull();
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
    expect(s).toMatchObject({ id: 'imp', artifactCount: 2 });
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
