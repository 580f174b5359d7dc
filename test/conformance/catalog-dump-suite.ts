import { expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { DumpKind, DumpReader, DumpRow } from '../../src/catalog/dump-catalog.js';
import { DUMP_KINDS } from '../../src/lib/dump-kinds.js';
import { T0, SHA, art, code } from './fixtures.js';

/** Every row of every kind of `reader`, read `limit` at a time. */
async function rowsOf(reader: DumpReader, limit = 1000): Promise<Record<DumpKind, DumpRow[]>> {
  const out = {} as Record<DumpKind, DumpRow[]>;
  for (const kind of DUMP_KINDS) {
    out[kind] = [];
    for (let cursor: string | null = null; ;) {
      const page: { rows: DumpRow[]; cursor: string | null } = await reader.readAll(
        kind,
        cursor,
        limit,
      );
      out[kind].push(...page.rows);
      if (page.cursor === null) break;
      cursor = page.cursor;
    }
  }
  return out;
}

async function dumpOf(c: Catalog, limit?: number) {
  const reader = await c.dump!.open();
  try {
    return await rowsOf(reader, limit);
  } finally {
    await reader.close();
  }
}

/** One of everything the catalog holds; returns the id of an artifact with lineage. */
async function fill(c: Catalog): Promise<string> {
  const parent = await c.addArtifact(art({ session: 'sealed', name: 'p', meta: { k: 'v' } }));
  await c.addArtifact(art({ session: 'sealed', name: 'p', sha256: SHA('b'), size: 3 }));
  await c.sealSession('sealed', T0, () => ({ digest: 'd'.repeat(64), signature: 'sig' }));
  await c.createSession({
    id: 'open',
    meta: { team: 'x' },
    expiresAt: T0 + 9e6,
    keepVersions: 3,
    now: T0,
  });
  const child = await c.addArtifact(
    art({ session: 'open', name: 'c', derivedFrom: [parent.id], expiresAt: T0 + 5e6 }),
  );
  const gone = await c.addArtifact(art({ session: 'open', name: 'v' }));
  await c.deleteArtifact(gone.id, T0); // its version number stays taken
  await c.addArtifact(art({ session: 'pinned', name: 'x', sha256: SHA('c') }));
  await c.updateSession('pinned', { pinned: true }, T0);
  await c.secrets.claimOnce('seal_key', 'a key as the catalog holds it');
  await c.addToken({
    id: 't_1',
    name: 'reader',
    scope: 'read',
    sessions: 'run_*',
    hash: 'h'.repeat(64),
    createdAt: T0,
    lastUsedAt: null,
  });
  await c.shares.add({
    id: 'sh_1',
    tokenHash: 's'.repeat(64),
    artifactId: parent.id,
    sessionId: null,
    createdAt: T0,
    expiresAt: T0 + 1e6,
    maxDownloads: 5,
    downloads: 2,
    lastAccessAt: T0,
    revokedAt: null,
    sessionCreatedAt: null,
    createdBy: 't_1',
  });
  await c.artifacta.pair([
    { id: 'art_0123456789abcdef', kind: 'artifact', cairnId: child.id, expiresAt: null },
  ]);
  expect(await c.shares.claimDownload('sh_1', T0 + 5)).toBe(true);
  await c.artifacta.setPage('art_0123456789abcdef', { secret: 'page-secret', json: '{}' });
  const claim = await c.idempotency.claim('key1', {
    holder: 'h',
    request: 'PUT x',
    now: T0,
    leaseUntil: T0 + 1000,
    since: T0 - 1,
  });
  expect(claim).toBeTruthy();
  await c.idempotency.finish('key1', 'h', { status: 201, body: '{}', request: 'PUT x' }, T0);
  return child.id;
}

/**
 * The conformance suite of Catalog.dump (logical backup, restore and migrate): what every
 * catalog backend that offers it must do. `make` gives a new, empty catalog each call.
 */
export function runCatalogDumpSuite(make: () => Promise<Catalog>): void {
  it('restores into an empty catalog exactly what it dumps, row for row, and the copy works', async () => {
    const a = await make();
    const b = await make();
    const childId = await fill(a);
    const dumped = await dumpOf(a);
    for (const kind of DUMP_KINDS) expect(dumped[kind].length, kind).toBeGreaterThan(0);
    const w = await b.dump!.restore();
    for (const kind of DUMP_KINDS) await w.write(kind, dumped[kind] as never);
    await w.commit();
    expect(await dumpOf(b)).toEqual(dumped);
    expect(await b.getSession('sealed', T0)).toEqual(await a.getSession('sealed', T0));
    expect(await b.getArtifact(childId, T0)).toEqual(await a.getArtifact(childId, T0));
    expect(await b.findToken('h'.repeat(64), T0)).toMatchObject({ id: 't_1', scope: 'read' });
    const share = await b.shares.byHash('s'.repeat(64));
    expect(share).toMatchObject({ id: 'sh_1', downloads: 1, lastAccessAt: T0 + 5 });
    expect(share).toEqual(await a.shares.byHash('s'.repeat(64)));
    expect(await b.artifacta.get('art_0123456789abcdef')).toMatchObject({ cairnId: childId });
    expect(await b.idempotency.answer('key1', T0 - 1)).toMatchObject({ status: 201 });
    // The counter came along: the deleted v1 of `v` is never given again.
    expect((await b.addArtifact(art({ session: 'open', name: 'v' }))).version).toBe(2);
    expect(await b.blobRefs(SHA('a'))).toBe((await a.blobRefs(SHA('a'))) + 1);
  });

  it('pages by cursor without losing or repeating a row', async () => {
    const a = await make();
    await fill(a);
    for (let i = 0; i < 7; i++) await a.addArtifact(art({ session: `s${i}`, name: `n${i}` }));
    expect(await dumpOf(a, 2)).toEqual(await dumpOf(a));
  });

  it('reads one point in time while writers go on', async () => {
    const a = await make();
    await fill(a);
    const reader = await a.dump!.open();
    try {
      const before = await reader.counts();
      await a.addArtifact(art({ session: 'later', name: 'n' }));
      await a.deleteArtifact((await a.findArtifact('open', 'c', undefined, T0))!.id, T0);
      expect(await reader.counts()).toEqual(before);
      const rows = await rowsOf(reader);
      expect(rows.artifacts.map((r) => (r as { session: string }).session)).not.toContain('later');
      expect(rows.artifacts.length).toBe(before.artifacts);
    } finally {
      await reader.close();
    }
  });

  it('refuses a catalog that holds anything, and an abort leaves it empty', async () => {
    const a = await make();
    await fill(a);
    const dumped = await dumpOf(a);
    expect(await code(a.dump!.restore())).toBe('catalog_not_empty');
    const b = await make();
    const w = await b.dump!.restore();
    await w.write('blobs', dumped.blobs as never);
    await w.write('sessions', dumped.sessions as never);
    await w.abort();
    expect(Object.values(await (await b.dump!.open()).counts())).toEqual(DUMP_KINDS.map(() => 0));
    expect(await b.getSession('sealed', T0)).toBeNull();
    const again = await b.dump!.restore();
    for (const kind of DUMP_KINDS) await again.write(kind, dumped[kind] as never);
    await again.commit();
    expect(await dumpOf(b)).toEqual(dumped);
  });

  it('refuses a row that refers to a missing one', async () => {
    const a = await make();
    await fill(a);
    const dumped = await dumpOf(a);
    const b = await make();
    const w = await b.dump!.restore();
    await w.write('blobs', dumped.blobs as never);
    expect(await code(w.write('artifacts', dumped.artifacts as never))).toBe('invalid_backup');
    await w.abort();
  });
}
