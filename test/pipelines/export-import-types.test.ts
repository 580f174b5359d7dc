import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteExport } from '../helpers/forge-export.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exportTar, importTar, push } from './export-import-helpers.js';

// Content types through export and import: what no response header could carry is refused,
// what a push takes goes through, and a stored type no header can carry is served as bytes.

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestServer(), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

describe('content types through export and import', () => {
  it.each(['text/html\r\nX-Evil: 1', 'text/pl\u00e9ain\u0100'])(
    'refuses a content type no response header can carry (%j), so no artifact is unreadable',
    async (type) => {
      await push(a, 'odd-type', 'a.txt', 'a');
      const open = await exportTar(a, 'odd-type');
      const bad = await rewriteExport(open, (doc) => {
        for (const x of [...doc.artifacts, ...doc.manifest.artifacts]) x.content_type = type;
      });
      const r = await importTar(b, bad);
      expect(r.status).toBe(400);
      expect(r.body.error?.code).toBe('invalid_export');
      expect((await b.fetch('/v1/sessions/odd-type')).status).toBe(404);
    },
  );

  it('still takes every content type a push takes (tab, Latin-1) through export and import', async () => {
    // Latin-1 in a quoted value (a token may not hold it: RFC 9110, checked on push).
    const type = 'text/plain;\tcharset="x-caf\u00e9"';
    const res = await a.fetch('/v1/sessions/latin-type/artifacts/l.txt', {
      method: 'PUT',
      body: 'l',
      headers: { 'Content-Type': type },
    });
    expect(res.status).toBe(201);
    await a.fetch('/v1/sessions/latin-type/seal', { method: 'POST' });
    const r = await importTar(b, await exportTar(a, 'latin-type'));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const got = await b.fetch('/v1/sessions/latin-type/artifacts/l.txt');
    expect(got.headers.get('content-type')).toBe(type);
  });

  it('serves such a type already stored (an older import) as bytes instead of failing', async () => {
    const rec = await push(a, 'odd-stored', 'a.txt', 'a');
    (a.app.catalog as unknown as { db: { prepare(q: string): { run(id: string): unknown } } }).db
      .prepare("UPDATE artifacts SET content_type = 'text/pl' || char(256) || 'ain' WHERE id = ?")
      .run(rec.id);
    const res = await a.fetch(`/v1/artifacts/${rec.id}/content`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(await res.text()).toBe('a');
  });
});
