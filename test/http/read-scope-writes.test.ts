import { describe, expect, it } from 'vitest';
import { MISSING_ID, useReadScopeFixture } from '../helpers/read-scope-fixture.js';

// A token limited to `in_*` may name in a write only what it can read: other sessions' bytes
// and artifacts are answered exactly as if they were not stored (see auth-read-scope.test.ts).

const x = useReadScopeFixture();

describe('writes name only what a session-limited token sees', () => {
  const put = (path: string, body = 'x') =>
    fetch(`${x.s.url}/v1/sessions/${path}`, {
      method: 'PUT',
      body,
      headers: { Authorization: `Bearer ${x.tokens.write}` },
    });
  const answer = async (res: Response) => {
    const text = await res.text();
    return `${res.status} ${text.replaceAll(/a_[0-9A-Z]{26}|[0-9a-f]{64}/g, 'X')}`;
  };

  it('derived_from an artifact of another session is refused as an unknown id', async () => {
    const hidden = await answer(await put(`in_3/artifacts/d.txt?derived_from=${x.f.outA}`));
    const missing = await answer(await put(`in_3/artifacts/d.txt?derived_from=${MISSING_ID}`));
    expect(hidden).toMatch(/^400 .*invalid_derived_from/);
    expect(hidden).toBe(missing);
    expect((await put(`in_3/artifacts/d.txt?derived_from=${x.f.inA}`)).status).toBe(201);
  });

  it('bytes only another session holds cannot be pushed by reference', async () => {
    const hidden = await answer(await put(`in_3/artifacts/r.txt?sha256=${x.f.outSha}`, ''));
    const missing = await answer(await put(`in_3/artifacts/r.txt?sha256=${'1'.repeat(64)}`, ''));
    expect(hidden).toMatch(/^404 .*blob_not_found/);
    expect(hidden).toBe(missing);
    expect((await put(`in_3/artifacts/r.txt?sha256=${x.f.inSha}`, '')).status).toBe(201);
  });

  it('a push is deduplicated only against bytes its sessions hold', async () => {
    const dedup = async (path: string, body: string) =>
      ((await (await put(path, body)).json()) as { deduplicated: boolean }).deduplicated;
    expect(await dedup('in_3/artifacts/o.txt', 'outside only')).toBe(false);
    expect(await dedup('in_3/artifacts/o2.txt', 'outside only')).toBe(true);
    expect(await dedup('in_3/artifacts/i.txt', 'inside a')).toBe(true);
  });

  it('shares and artifacts of other sessions cannot be revoked, deleted or shared', async () => {
    for (const [method, path] of [
      ['DELETE', `/v1/shares/${x.f[`share_${x.f.outA}`]}`],
      ['DELETE', `/v1/artifacts/${x.f.outA}`],
      ['POST', `/v1/artifacts/${x.f.outA}/share`],
    ]) {
      const res = await fetch(x.s.url + path, {
        method,
        headers: { Authorization: `Bearer ${x.tokens.write}` },
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      await res.body?.cancel();
    }
  });
});
