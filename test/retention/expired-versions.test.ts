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
