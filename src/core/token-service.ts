import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Catalog } from '../catalog/catalog.js';
import { ForbiddenError, InvalidInputError, UnauthorizedError } from '../lib/errors.js';
import { globToRegExp } from '../lib/glob.js';
import { newId } from '../lib/ids.js';
import type { Scope, TokenRecord } from './types.js';

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

/** Who is calling: the token's id, scope and optional session glob. */
export interface Principal {
  tokenId: string;
  scope: Scope;
  sessions: string | null;
}

/** sha256 hex of a secret: how tokens (and share tokens) are stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A fresh 256-bit secret with a readable prefix. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** API tokens: creation, authentication and authorization. Secrets are stored only hashed. */
export class TokenService {
  constructor(private readonly o: { catalog: Catalog; clock: () => number }) {}

  /** Creates a token; the secret is in the result and nowhere else. */
  async create(input: {
    scope: string;
    name?: string;
    sessions?: string | null;
  }): Promise<TokenRecord & { token: string }> {
    if (!(input.scope in RANK)) {
      throw new InvalidInputError(
        'invalid_scope',
        `scope must be read, write or admin, not '${String(input.scope).slice(0, 20)}'`,
      );
    }
    if (input.sessions != null && (input.sessions.length === 0 || input.sessions.length > 256)) {
      throw new InvalidInputError(
        'invalid_sessions',
        'sessions must be a glob of 1-256 characters, e.g. run_*',
      );
    }
    const name = (input.name ?? '').slice(0, 128);
    const token = newSecret('cairn');
    const rec: TokenRecord = {
      id: newId('t'),
      name,
      scope: input.scope as Scope,
      sessions: input.sessions ?? null,
      created_at: new Date(this.o.clock()).toISOString(),
      last_used_at: null,
    };
    await this.o.catalog.addToken({ ...rec, hash: hashSecret(token) });
    return { ...rec, token };
  }

  /** The principal for a bearer secret; throws UnauthorizedError. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new UnauthorizedError();
    const hash = hashSecret(secret);
    const row = await this.o.catalog.findToken(hash, this.o.clock());
    if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) {
      throw new UnauthorizedError(
        'the bearer token is not valid; check CAIRN_TOKEN or create a token with `cairn token create`',
      );
    }
    return { tokenId: row.id, scope: row.scope, sessions: row.sessions };
  }

  /**
   * Throws ForbiddenError unless `p` has at least scope `need`, and, for writes into a session,
   * unless the session id matches the token's session glob.
   */
  authorize(p: Principal, need: Scope, session?: string): void {
    if (RANK[p.scope] < RANK[need]) {
      throw new ForbiddenError(
        `this needs a token with scope '${need}'; yours has scope '${p.scope}'`,
      );
    }
    if (
      need !== 'read' &&
      p.sessions &&
      p.scope !== 'admin' &&
      session !== undefined &&
      !globToRegExp(p.sessions).test(session)
    ) {
      throw new ForbiddenError(`this token may only write to sessions matching '${p.sessions}'`);
    }
  }

  list(): Promise<TokenRecord[]> {
    return this.o.catalog.listTokens();
  }

  revoke(id: string): Promise<void> {
    return this.o.catalog.deleteToken(id);
  }
}
