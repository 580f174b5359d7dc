import { InvalidInputError } from '../../../lib/errors.js';
import { readJson } from '../../request.js';
import type { Ctx, Route } from '../../router.js';
import { serveShare } from '../../routes/share-download.js';
import { origin, reply } from '../artifacta-http.js';

/** Lifetime of a download URL, in seconds (what Artifacta's clients expect). */
export const DOWNLOAD_URL_SECONDS = 3600;
const DEFAULT_LINK_SECONDS = 604_800;
const MAX_LINK_SECONDS = 7_776_000;

/** A Cairn share link of the artifact `:id`, served by this listener at `/s/<secret>`. */
async function shareOf(c: Ctx, seconds: number, scope: 'read' | 'write') {
  const artifact = await c.app.artifacta.resolve(c.params.id);
  c.authorize(scope, artifact.session);
  const { record, token } = await c.app.shares.create({
    target: { artifact },
    ttlMs: seconds * 1000,
    createdBy: c.principal?.tokenId,
  });
  return { artifact, record, url: `${origin(c)}/s/${token}` };
}

/** Download URLs and links: Cairn share links, usable without a token. */
export function bindArtifactaLinkRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/artifacts/:id/download-url',
      access: 'read',
      summary: 'A URL that downloads the artifact without a token for 3600 s',
      handler: async (c) => {
        const { artifact, record, url } = await shareOf(c, DOWNLOAD_URL_SECONDS, 'read');
        reply(c, 200, {
          download_url: url,
          expires_in: Math.round((Date.parse(record.expires_at) - c.app.clock()) / 1000),
          filename: artifact.name,
          content_type: artifact.content_type,
          size_bytes: artifact.size,
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/artifacts/:id/links',
      access: 'write',
      summary: 'A new expiring link {expires_in?} (seconds, default 604800)',
      handler: async (c) => {
        const b = await readJson(c.req, c.app.config.maxJsonBytes);
        const seconds = b.expires_in ?? DEFAULT_LINK_SECONDS;
        if (
          typeof seconds !== 'number' ||
          !Number.isInteger(seconds) ||
          seconds < 1 ||
          seconds > MAX_LINK_SECONDS
        )
          throw new InvalidInputError(
            'invalid_request',
            `expires_in must be a whole number of seconds from 1 to ${MAX_LINK_SECONDS}`,
          );
        const { record, url } = await shareOf(c, seconds, 'write');
        reply(c, 201, {
          link_id: await c.app.artifacta.linkId(record.id, Date.parse(record.expires_at)),
          url,
          artifact_id: c.params.id,
          expires_at: record.expires_at,
          created_at: record.created_at,
        });
      },
    },
    {
      method: 'GET',
      path: '/s/:token',
      access: 'public',
      query: 'any',
      summary: 'Download through a download URL or link (no token: the URL is the credential)',
      handler: serveShare,
    },
  ];
}
