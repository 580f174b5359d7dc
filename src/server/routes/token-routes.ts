import { InvalidInputError } from '../../lib/errors.js';
import { onlyFields, readJson } from '../request.js';
import { sendJson } from '../respond.js';
import type { Route } from '../router.js';

/** Admin routes for API tokens. */
export function bindTokenRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/tokens',
      access: 'admin',
      summary:
        'Create a token {scope, name?, sessions?, artifacta?}; shown once (artifacta: an ak_live_ key)',
      handler: async (c) => {
        const b = await readJson(c.req, c.app.config.maxJsonBytes);
        onlyFields(
          b,
          ['scope', 'name', 'sessions', 'artifacta'],
          'a token takes scope, name, sessions and artifacta',
        );
        if (b.artifacta !== undefined && typeof b.artifacta !== 'boolean')
          throw new InvalidInputError('invalid_request', 'artifacta must be true or false');
        if (typeof b.scope !== 'string')
          throw new InvalidInputError('invalid_scope', 'scope must be read, write or admin');
        if (b.name !== undefined && typeof b.name !== 'string')
          throw new InvalidInputError('invalid_request', 'name must be a string');
        if (b.sessions !== undefined && b.sessions !== null && typeof b.sessions !== 'string') {
          throw new InvalidInputError(
            'invalid_sessions',
            'sessions must be a glob string like run_*',
          );
        }
        sendJson(
          c.res,
          201,
          await c.app.tokens.create({
            scope: b.scope,
            name: b.name,
            sessions: b.sessions,
            format: b.artifacta === true ? 'artifacta' : 'cairn',
          }),
        );
      },
    },
    {
      method: 'GET',
      path: '/v1/tokens',
      access: 'admin',
      summary: 'List tokens (never the secrets)',
      handler: async (c) => sendJson(c.res, 200, { items: await c.app.tokens.list() }),
    },
    {
      method: 'DELETE',
      path: '/v1/tokens/:id',
      access: 'admin',
      summary: 'Revoke a token',
      handler: async (c) => {
        await c.app.tokens.revoke(c.params.id);
        sendJson(c.res, 200, { id: c.params.id, revoked: true });
      },
    },
  ];
}
