import { describe, expect, it } from 'vitest';
import { FsckService } from '../../src/core/fsck-service.js';
import { H, T0, code, makeClockedApp as make } from '../helpers/clocked-app.js';

describe('when the newest version of a name expires', () => {
  it('the newest live one is what reads by name and latest=true get, before and after the sweep', async () => {
    const { app, clock, push } = await make();
    const v1 = await push({ session: 's', name: 'r.txt' }, 'v1');
    const v2 = await push({ session: 's', name: 'r.txt', ttlMs: H }, 'v2');
    expect((await app.artifacts.find('s', 'r.txt')).id).toBe(v2.id);
    clock.now = T0 + H;
    const reads = async () => {
      expect((await app.artifacts.find('s', 'r.txt')).id).toBe(v1.id);
      const latest = await app.artifacts.query({ session: 's', latest: true, limit: 10 });
      expect(latest.items.map((a) => a.id)).toEqual([v1.id]);
      expect(await code(app.artifacts.find('s', 'r.txt', 2))).toBe('not_found');
    };
    await reads();
    expect((await app.retention.sweep()).artifacts_expired).toBe(1);
    await reads();
    const fsck = new FsckService({
      catalog: app.catalog,
      blobs: app.blobs,
      artifacts: app.artifacts,
    });
    const report = await fsck.run({ repair: false });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('a name whose every version expired has no latest', async () => {
    const { app, clock, push } = await make();
    await push({ session: 's', name: 'gone', ttlMs: H }, 'a');
    await push({ session: 's', name: 'gone', ttlMs: H }, 'b');
    await push({ session: 's', name: 'kept' }, 'c');
    clock.now = T0 + H;
    expect(await code(app.artifacts.find('s', 'gone'))).toBe('not_found');
    const latest = await app.artifacts.query({ session: 's', latest: true, limit: 10 });
    expect(latest.items.map((a) => a.name)).toEqual(['kept']);
  });
});

describe('derived_from', () => {
  it('refuses a parent that has expired (it would be a dangling edge at once)', async () => {
    const { clock, push } = await make();
    const parent = await push({ session: 's', name: 'p', ttlMs: H }, 'p');
    clock.now = T0 + H;
    expect(await code(push({ session: 's', name: 'c', derivedFrom: [parent.id] }, 'c'))).toBe(
      'invalid_derived_from',
    );
  });
});

describe('sealing a session with expired artifacts', () => {
  it('pinned: what the pin kept is in the manifest and stays after unpin and a sweep', async () => {
    const { app, clock, push } = await make();
    await push({ session: 'p', name: 'keep' }, 'keep');
    await push({ session: 'p', name: 'short', ttlMs: H }, 'short');
    await app.sessions.update('p', { pinned: true });
    clock.now = T0 + 2 * H;
    const sealed = await app.sessions.seal('p');
    expect(sealed.artifact_count).toBe(2);
    await app.sessions.update('p', { pinned: false });
    clock.now = T0 + 3 * H;
    await app.retention.sweep();
    const m = await app.sessions.manifest('p');
    expect(m.artifacts.map((a) => a.name).sort()).toEqual(['keep', 'short']);
    expect(m.digest).toBe(sealed.digest);
    expect((await app.sessions.get('p')).artifact_count).toBe(2);
  });

  it('not pinned: the sealed record counts what the manifest holds, and the sweep keeps it so', async () => {
    const { app, clock, push } = await make();
    await push({ session: 'c', name: 'a' }, 'a');
    await push({ session: 'c', name: 'b', ttlMs: H }, 'bb');
    clock.now = T0 + H;
    const sealed = await app.sessions.seal('c');
    expect([sealed.artifact_count, sealed.total_bytes]).toEqual([1, 1]);
    expect((await app.retention.sweep()).artifacts_expired).toBe(1);
    const after = await app.sessions.get('c');
    expect([after.artifact_count, after.total_bytes]).toEqual([1, 1]);
    const fsck = new FsckService({
      catalog: app.catalog,
      blobs: app.blobs,
      artifacts: app.artifacts,
    });
    expect((await fsck.run({ repair: false })).problems).toEqual([]);
  });
});

describe('keep last N versions', () => {
  it('counts only live versions: an expired one does not take the place of one to keep', async () => {
    const { app, clock, push } = await make();
    await app.sessions.create({ id: 'kv', keepVersions: 2 });
    await push({ session: 'kv', name: 'n' }, 'v1');
    const v2 = await push({ session: 'kv', name: 'n' }, 'v2');
    await push({ session: 'kv', name: 'n', ttlMs: H }, 'v3');
    clock.now = T0 + H;
    const v4 = await push({ session: 'kv', name: 'n' }, 'v4');
    const all = await app.artifacts.query({ session: 'kv', limit: 10 });
    expect(all.items.map((a) => a.id)).toEqual([v4.id, v2.id]);
  });
});

describe('version numbers are never reused', () => {
  it('after the newest version is deleted or expires and is swept, the next push numbers past it', async () => {
    const { app, clock, push } = await make();
    await push({ session: 's', name: 'n' }, 'v1');
    const v2 = await push({ session: 's', name: 'n' }, 'v2');
    await app.artifacts.delete(v2.id);
    expect((await push({ session: 's', name: 'n' }, 'v3')).version).toBe(3);
    await push({ session: 's', name: 'n', ttlMs: H }, 'v4');
    clock.now = T0 + H;
    expect((await app.retention.sweep()).artifacts_expired).toBe(1);
    const v5 = await push({ session: 's', name: 'n' }, 'v5');
    expect(v5.version).toBe(5);
    expect(await code(app.artifacts.find('s', 'n', 4))).toBe('not_found');
  });
});
