import { Readable } from 'node:stream';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import type { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

async function shareUrl(id: string): Promise<string> {
  const res = await s.fetch(`/v1/artifacts/${id}/share`, { method: 'POST' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { url: string }).url;
}

describe('active types are served from share links as attachments', () => {
  it.each([
    ['style.xsl', 'text/xsl'],
    ['deck.wml', 'text/vnd.wap.wml'],
    ['page.xhtml', 'application/xhtml+xml'],
    ['feed.atom', 'application/atom+xml; charset=utf-8'],
    ['page.html', 'TEXT/HTML; charset=utf-8'],
  ])('%s (%s)', async (name, type) => {
    const res = await s.fetch(`/v1/sessions/act/artifacts/${name}`, {
      method: 'PUT',
      body: Buffer.from('<x/>'),
      headers: { 'Content-Type': type },
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const shared = await fetch(await shareUrl(id));
    expect(shared.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(shared.headers.get('content-type')).toBe(type);
    expect(await shared.text()).toBe('<x/>');
  });
});

describe('a stored type that is not a media type (stored before pushes checked it)', () => {
  it('is served as application/octet-stream to download, on every route', async () => {
    // What an older server stored verbatim (an import keeps it: the seal digest covers it).
    // Pushes refuse such a type now, so the row is changed as an older server left it.
    const rec = await s.app.artifacts.push(
      { session: 'legacy', name: 'x.html', contentType: 'text/html' },
      Readable.from([Buffer.from('<script>alert(1)</script>')]),
    );
    const stored = 'text/html"><script>alert(1)</script>';
    const c = s.app.catalog;
    if (c instanceof PgCatalog)
      await c.db.run('UPDATE artifacts SET content_type = $1 WHERE id = $2', [stored, rec.id]);
    else
      (c as SqliteCatalog).db
        .prepare('UPDATE artifacts SET content_type = ? WHERE id = ?')
        .run(stored, rec.id);
    for (const res of [
      await s.fetch(`/v1/sessions/legacy/artifacts/x.html`),
      await s.fetch(`/v1/artifacts/${rec.id}/content`),
      await fetch(await shareUrl(rec.id)),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
    }
  });
});
