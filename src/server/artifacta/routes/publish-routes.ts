import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../../../lib/errors.js';
import { readJson } from '../../request.js';
import type { Ctx, Route } from '../../router.js';
import { isActiveType } from '../../routes/share-download.js';
import { serveArtifact } from '../../serve-content.js';
import { origin, reply, str } from '../artifacta-http.js';

/** `POST /v1/artifacts/:id/publish`: a public read-only page; publishing again keeps its URL. */
async function publish(c: Ctx): Promise<void> {
  const rec = await c.app.artifacta.resolve(c.params.id);
  c.authorize('write', rec.session);
  const b = await readJson(c.req, c.app.config.maxJsonBytes);
  const visibility = b.visibility ?? 'unlisted';
  if (visibility !== 'unlisted' && visibility !== 'public')
    throw new InvalidInputError('invalid_request', "visibility must be 'unlisted' or 'public'");
  if ((b.access ?? 'none') !== 'none')
    throw new InvalidInputError('invalid_request', "access must be 'none' (pages are read-only)");
  const title = str(b, 'title') ?? null;
  const prior = await c.app.artifacta.page(c.params.id);
  const page = {
    pageId: prior?.pageId ?? `pg_${randomBytes(15).toString('hex')}`,
    secret: prior?.secret ?? randomBytes(24).toString('base64url'),
    visibility,
    title,
  };
  await c.app.artifacta.setPage(c.params.id, page);
  reply(c, 200, {
    page_id: page.pageId,
    public_url: `${origin(c)}/p/${page.secret}`,
    visibility,
    access: 'none',
  });
}

/** `DELETE /v1/artifacts/:id/publish`: the page's URL stops working; a no-op if unpublished. */
async function unpublish(c: Ctx): Promise<void> {
  const rec = await c.app.artifacta.resolve(c.params.id);
  c.authorize('write', rec.session);
  const prior = await c.app.artifacta.page(c.params.id);
  if (prior) await c.app.artifacta.setPage(c.params.id, null);
  reply(c, 200, { page_id: prior?.pageId ?? null, unpublished: true });
}

/**
 * `GET /p/:secret`: the published artifact, read-only and safe like the browse page's
 * previews: `nosniff`, `Content-Security-Policy: sandbox` on every answer, and active types
 * (HTML, SVG, XML, scripts, PDF) as attachments.
 */
async function page(c: Ctx): Promise<void> {
  const rec = await c.app.artifacta.published(c.params.secret);
  c.res.setHeader('Referrer-Policy', 'no-referrer');
  await serveArtifact(c.req, c.res, c.app.artifacts, rec, {
    attachment: isActiveType(rec.content_type),
  });
}

/** Publishing: public read-only pages of artifacts. */
export function bindArtifactaPublishRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/artifacts/:id/publish',
      access: 'write',
      summary: 'Publish a public read-only page {visibility, access: "none", title?}',
      handler: publish,
    },
    {
      method: 'DELETE',
      path: '/v1/artifacts/:id/publish',
      access: 'write',
      summary: 'Unpublish (a no-op when not published)',
      handler: unpublish,
    },
    {
      method: 'GET',
      path: '/p/:secret',
      access: 'public',
      query: 'any',
      summary: 'A published page (read-only, sandboxed, nosniff)',
      handler: page,
    },
  ];
}
