import { shareNotFound } from '../../core/read-scope.js';
import type { ShareRecord } from '../../core/share-service.js';
import { parseDuration } from '../../lib/duration.js';
import { InvalidInputError } from '../../lib/errors.js';
import { onlyFields, readJson } from '../request.js';
import { sendJson } from '../respond.js';
import type { Ctx, Route } from '../router.js';
import { serveShare } from './share-download.js';

/** Routes for share links: create, list, revoke, and the public download. */
export function bindShareRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/artifacts/:id/share',
      access: 'write',
      summary: 'Share an artifact {ttl?, max_downloads?} → {id, url, expires_at}',
      handler: async (c) => {
        const opts = await shareOptions(c);
        const artifact = c.reads.artifact(await c.app.artifacts.get(c.params.id));
        c.authorize('write', artifact.session);
        await created(c, await c.app.shares.create({ target: { artifact }, ...opts }));
      },
    },
    {
      method: 'POST',
      path: '/v1/sessions/:sid/share',
      access: 'write',
      summary: 'Share a session as a tar {ttl?, max_downloads?} → {id, url, expires_at}',
      handler: async (c) => {
        const opts = await shareOptions(c);
        const session = await c.app.sessions.get(c.params.sid);
        await created(c, await c.app.shares.create({ target: { session }, ...opts }));
      },
    },
    {
      method: 'GET',
      path: '/v1/shares',
      access: 'write',
      summary: 'List share links (never their secrets) with download counts and last access',
      handler: async (c) =>
        sendJson(c.res, 200, { items: await c.app.shares.list(c.reads.glob ?? undefined) }),
    },
    {
      method: 'DELETE',
      path: '/v1/shares/:id',
      access: 'write',
      summary: 'Revoke a share link (its URL answers 410 from then on)',
      handler: async (c) => {
        const share = await c.app.shares.get(c.params.id);
        // A link into a session the token cannot read is, to it, no link at all.
        if (!c.reads.sees(share.session)) throw shareNotFound(c.params.id);
        c.authorize('write', share.session ?? undefined);
        sendJson(c.res, 200, await c.app.shares.revoke(c.params.id));
      },
    },
    {
      method: 'GET',
      path: '/s/:token',
      query: 'any',
      access: 'public',
      summary: 'Public download through a share link (404 unknown, 410 expired/revoked/used up)',
      handler: serveShare,
    },
  ];
}

/** Parses `{ttl?, max_downloads?}`. */
async function shareOptions(c: Ctx): Promise<{ ttlMs?: number; maxDownloads?: number }> {
  const body = await readJson(c.req, c.app.config.maxJsonBytes);
  onlyFields(body, ['ttl', 'max_downloads'], 'a share takes ttl and max_downloads');
  if (body.ttl !== undefined && typeof body.ttl !== 'string')
    throw new InvalidInputError('invalid_duration', 'ttl must be a duration string like 24h');
  const max = body.max_downloads;
  if (max !== undefined && max !== null && typeof max !== 'number')
    throw new InvalidInputError(
      'invalid_max_downloads',
      'max_downloads must be a whole number from 1 to 1000000000',
    );
  return {
    ttlMs: body.ttl === undefined ? undefined : parseDuration(body.ttl, 'ttl'),
    maxDownloads: max ?? undefined,
  };
}

async function created(c: Ctx, r: { record: ShareRecord; token: string }): Promise<void> {
  sendJson(c.res, 201, { ...r.record, url: `${baseUrl(c)}/s/${r.token}` });
}

/** `--public-url` if set (reverse proxy), else the host the request was sent to. */
function baseUrl(c: Ctx): string {
  const configured = c.app.config.publicUrl;
  if (configured) return configured.replace(/\/+$/, '');
  const host = c.req.headers.host ?? '';
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) {
    throw new InvalidInputError(
      'invalid_host',
      'the Host header is not a valid host; start the server with --public-url to fix link URLs',
    );
  }
  return `http://${host}`;
}
