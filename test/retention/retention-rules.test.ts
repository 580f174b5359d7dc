import { describe, expect, it } from 'vitest';
import { H, T0, code, makeClockedApp as make } from '../helpers/clocked-app.js';

describe('reads hide expired things before any sweep', () => {
  it('artifact and session expiry, one millisecond apart', async () => {
    const { app, clock, push } = await make();
    await app.sessions.create({ id: 's', ttlMs: 2 * H });
    const a = await push({ session: 's', name: 'a', ttlMs: H }, 'a');
    const b = await push({ session: 's', name: 'b' }, 'b');
    clock.now = T0 + H - 1;
    expect((await app.artifacts.query({ limit: 10 })).items).toHaveLength(2);
    clock.now = T0 + H;
    expect((await app.artifacts.query({ limit: 10 })).items.map((x) => x.id)).toEqual([b.id]);
    expect(await code(app.artifacts.get(a.id))).toBe('not_found');
    expect(await code(app.artifacts.find('s', 'a'))).toBe('not_found');
    clock.now = T0 + 2 * H;
    expect(await code(app.sessions.get('s'))).toBe('not_found');
    expect(await code(app.artifacts.get(b.id))).toBe('not_found');
    expect((await app.sessions.list({ limit: 10 })).items).toEqual([]);
  });

  it('a session TTL caps its artifacts; the record shows the earlier expiry', async () => {
    const { app, push } = await make();
    await app.sessions.create({ id: 's', ttlMs: H });
    const a = await push({ session: 's', name: 'a', ttlMs: 5 * H }, 'a');
    expect(Date.parse((await app.artifacts.get(a.id)).expires_at ?? '')).toBe(T0 + H);
  });
});

describe('sealed sessions expire whole', () => {
  it('without a session TTL: at the expiry of its longest-lived artifact', async () => {
    const { app, clock, push } = await make();
    await push({ session: 's', name: 'a', ttlMs: H }, 'a');
    await push({ session: 's', name: 'b', ttlMs: 3 * H }, 'b');
    const sealed = await app.sessions.seal('s');
    expect(Date.parse(sealed.expires_at ?? '')).toBe(T0 + 3 * H);
    clock.now = T0 + 2 * H;
    expect((await app.sessions.getWithArtifacts('s')).artifacts.map((x) => x.name)).toEqual([
      'a',
      'b',
    ]);
    expect((await app.retention.sweep()).artifacts_expired).toBe(0);
    clock.now = T0 + 3 * H;
    expect(await code(app.sessions.get('s'))).toBe('not_found');
    const r = await app.retention.sweep();
    expect(r).toMatchObject({ sessions: ['s'], sessions_expired: 1, artifacts_expired: 2 });
  });

  it('with an artifact without TTL: never; already-expired artifacts stay out of it', async () => {
    const { app, clock, push } = await make();
    await push({ session: 's', name: 'gone', ttlMs: H }, 'gone');
    await push({ session: 's', name: 'forever' }, 'forever');
    clock.now = T0 + 2 * H;
    const sealed = await app.sessions.seal('s');
    expect(sealed.expires_at).toBeNull();
    const manifest = await app.sessions.manifest('s');
    expect(manifest.artifacts.map((x) => x.name)).toEqual(['forever']);
    // The artifact that expired before the seal is swept out of the sealed session;
    // the seal's content is untouched.
    expect((await app.retention.sweep()).artifacts_expired).toBe(1);
    expect((await app.sessions.manifest('s')).digest).toBe(sealed.digest);
  });
});

describe('garbage collection', () => {
  it('a dry run reports exactly what the real run frees, dedupe counted', async () => {
    const { app, clock, push, blobExists } = await make();
    // X: one expiring and one live reference → frees nothing.
    await push({ session: 'live', name: 'x1', ttlMs: H }, 'X');
    await push({ session: 'live', name: 'x2' }, 'X');
    // Y: two expiring references → freed once.
    await push({ session: 'live', name: 'y1', ttlMs: H }, 'YY');
    await push({ session: 'live', name: 'y2', ttlMs: H }, 'YY');
    // Z and W: in a session that expires whole; W is also used by a pinned session.
    await app.sessions.create({ id: 'old', ttlMs: H });
    await push({ session: 'old', name: 'z' }, 'ZZZZ');
    await push({ session: 'old', name: 'w' }, 'WWWWWWWW');
    await push({ session: 'keep', name: 'w', ttlMs: H }, 'WWWWWWWW');
    await app.sessions.update('keep', { pinned: true });
    clock.now = T0 + H;
    const plan = await app.retention.plan();
    expect(plan).toEqual({
      dry_run: true,
      sessions: ['old'],
      sessions_expired: 1,
      artifacts_expired: 5,
      blobs_freed: 2,
      bytes_freed: 2 + 4,
      orphans_freed: 0,
      orphan_bytes_freed: 0,
    });
    expect(await blobExists('YY')).toBe(true);
    const real = await app.retention.sweep();
    expect({ ...real, dry_run: true }).toEqual(plan);
    expect(
      await Promise.all([
        blobExists('X'),
        blobExists('YY'),
        blobExists('ZZZZ'),
        blobExists('WWWWWWWW'),
      ]),
    ).toEqual([true, false, false, true]);
    expect(await app.retention.plan()).toMatchObject({ artifacts_expired: 0, bytes_freed: 0 });
  });

  it('works in bounded batches: no transaction removes more than the batch size', async () => {
    const { app, clock, push } = await make({ sweepBatch: 4 });
    await app.sessions.create({ id: 'big', ttlMs: H });
    for (let i = 0; i < 9; i++) await push({ session: 'big', name: `f${i}` }, `big ${i}`);
    for (let i = 0; i < 6; i++) await push({ session: 'small', name: `g${i}`, ttlMs: H }, `s ${i}`);
    clock.now = T0 + H;
    const batch = await app.catalog.retention.sweepExpired(clock.now, 4);
    expect(batch.rows).toBe(4);
    expect(batch.sessions).toEqual([]); // the session row goes only with its last artifact
    expect(await code(app.sessions.get('big'))).toBe('not_found');
    const rest = await app.retention.sweep();
    expect(rest).toMatchObject({ sessions: ['big'], artifacts_expired: 9 - 4 + 6 });
    expect([...(await collect(app.catalog.listBlobs()))]).toEqual([]);
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('keep last N versions', () => {
  it('server setting: after each push only the newest N versions remain', async () => {
    const { app, push, blobExists } = await make({ keepVersions: 2 });
    for (let v = 1; v <= 4; v++) await push({ session: 's', name: 'log' }, `v${v}`);
    const left = (await app.sessions.getWithArtifacts('s')).artifacts;
    expect(left.map((x) => x.version)).toEqual([3, 4]);
    expect(await Promise.all([blobExists('v1'), blobExists('v2'), blobExists('v4')])).toEqual([
      false,
      false,
      true,
    ]);
    expect((await app.sessions.get('s')).artifact_count).toBe(2);
  });

  it("a session's keep_versions wins over the server's, and applies at once when set", async () => {
    const { app, push } = await make({ keepVersions: 5 });
    await app.sessions.create({ id: 's', keepVersions: 1 });
    await push({ session: 's', name: 'a' }, 'a1');
    await push({ session: 's', name: 'a' }, 'a2');
    expect((await app.sessions.getWithArtifacts('s')).artifacts.map((x) => x.version)).toEqual([2]);
    for (let v = 1; v <= 3; v++) await push({ session: 't', name: 'b' }, `b${v}`);
    await app.sessions.update('t', { keepVersions: 1 });
    expect(await app.retention.pruneSession('t')).toBe(2);
    expect((await app.sessions.get('t')).keep_versions).toBe(1);
    expect(await code(app.sessions.create({ id: 'u', keepVersions: 0 }))).toBe(
      'invalid_keep_versions',
    );
  });
});

describe('deleting a session', () => {
  it('removes an open session with its artifacts and the bytes nobody else uses', async () => {
    const { app, push, blobExists } = await make();
    const events: { type: string; session: string; data: unknown }[] = [];
    app.events.subscribe((e) => events.push(e));
    await push({ session: 'd', name: 'a' }, 'only here');
    await push({ session: 'd', name: 'b' }, 'shared');
    await push({ session: 'other', name: 'b' }, 'shared');
    expect(await app.retention.deleteSession('d')).toEqual({ id: 'd', artifacts_deleted: 2 });
    expect(events.filter((e) => e.type === 'session.deleted')).toEqual([
      expect.objectContaining({ session: 'd', data: { id: 'd', artifacts: 2 } }),
    ]);
    expect(await code(app.sessions.get('d'))).toBe('not_found');
    expect(await Promise.all([blobExists('only here'), blobExists('shared')])).toEqual([
      false,
      true,
    ]);
    await app.sessions.seal('other');
    expect(await code(app.retention.deleteSession('other'))).toBe('session_sealed');
    expect(await code(app.retention.deleteSession('nope'))).toBe('not_found');
  });
});
