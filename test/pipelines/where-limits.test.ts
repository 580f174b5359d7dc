import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('long valid expressions stay within SQLite limits', () => {
  // A 256-value `in` list plus 480 `or` terms (3,878 characters) was one level per operand in
  // SQLite's expression tree: past its 1,000 and a 500 on both query routes.
  const text = `a in (${Array(256).fill('1').join(',')}) or ${Array(480).fill('a=2').join(' or ')}`;
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it('answers them over HTTP, on artifacts and sessions, with the right matches', async () => {
    expect(text.length).toBeLessThanOrEqual(4096);
    for (const [name, a] of [
      ['one', '1'],
      ['two', '2'],
      ['three', '3'],
    ]) {
      const res = await s.fetch(`/v1/sessions/long/artifacts/${name}?meta.a=${a}`, {
        method: 'PUT',
        body: name,
      });
      expect(res.status).toBe(201);
    }
    const res = await s.fetch(`/v1/artifacts?where=${encodeURIComponent(text)}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: { name: string }[] };
    expect(page.items.map((x) => x.name).sort()).toEqual(['one', 'two']);
    const sessions = await s.fetch(`/v1/sessions?where=${encodeURIComponent(text)}`);
    expect(sessions.status).toBe(200);
  });
});
