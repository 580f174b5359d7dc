import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Catalog, StoredToken } from '../catalog/catalog.js';
import { ForbiddenError, InvalidInputError, UnauthorizedError } from '../lib/errors.js';
import { compileGlob } from '../lib/glob.js';
import { newId } from '../lib/ids.js';
import { ReadScope } from './read-scope.js';
import { tokenRecord } from './records.js';
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

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A secret of Artifacta's key shape, `ak_live_` + 32 alphanumerics (~190 bits): the form
 * Artifacta's clients insist on (their MCP server refuses any other). Rejection sampling keeps
 * every character uniform.
 */
export function artifactaSecret(): string {
  let out = '';
  while (out.length < 32) {
    for (const b of randomBytes(48)) {
      if (b < 248 && out.length < 32) out += ALNUM[b % 62];
    }
  }
  return `ak_live_${out}`;
}

/**
 * How long an authenticated token is trusted without asking the catalog again: the bound on how
 * long a revocation made through another process or node sharing the catalog takes to apply.
 */
export const TOKEN_CACHE_MS = 1000;
/** Most tokens remembered at once. */
const CACHE_MAX = 1024;

/**
 * API tokens: creation, authentication and authorization. Secrets are stored only hashed.
 * Authentication remembers a token for {@link TOKEN_CACHE_MS} (a catalog lookup per request was
 * ~5% of a small push; one per token per second is nothing); revoking through this service
 * forgets it at once, and a revocation made by another process or node sharing the catalog is
 * refused here at most {@link TOKEN_CACHE_MS} after it committed.
 */
export class TokenService {
  private readonly known = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly o: { catalog: Catalog; clock: () => number }) {}

  /** Creates a token; the secret is in the result and nowhere else. */
  async create(input: {
    scope: string;
    name?: string;
    sessions?: string | null;
    /** `artifacta`: a secret of Artifacta's key shape (see {@link artifactaSecret}). */
    format?: 'cairn' | 'artifacta';
  }): Promise<TokenRecord & { token: string }> {
    // Own keys only: `in` also accepts 'toString', '__proto__' and every other inherited name.
    if (typeof input.scope !== 'string' || !Object.hasOwn(RANK, input.scope)) {
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
    // An admin token can mint itself an unlimited one: a glob on it would only look like a limit.
    if (input.sessions != null && input.scope === 'admin') {
      throw new InvalidInputError(
        'invalid_sessions',
        'an admin token always reaches every session; limit a read or write token instead',
      );
    }
    const name = (input.name ?? '').slice(0, 128);
    const token = input.format === 'artifacta' ? artifactaSecret() : newSecret('cairn');
    const stored: StoredToken = {
      id: newId('t'),
      name,
      scope: input.scope as Scope,
      sessions: input.sessions ?? null,
      createdAt: this.o.clock(),
      lastUsedAt: null,
    };
    await this.o.catalog.addToken({ ...stored, hash: hashSecret(token) });
    return { ...tokenRecord(stored), token };
  }

  /** The principal for a bearer secret; throws UnauthorizedError. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new UnauthorizedError();
    const hash = hashSecret(secret);
    const now = this.o.clock();
    const hit = this.known.get(hash);
    if (hit && hit.until > now) return hit.principal;
    const row = await this.o.catalog.findToken(hash, now);
    if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), Buffer.from(hash, 'hex'))) {
      throw new UnauthorizedError(
        'the bearer token is not valid; check CAIRN_TOKEN or create a token with `cairn token create`',
      );
    }
    const principal: Principal = Object.freeze({
      tokenId: row.id,
      scope: row.scope,
      sessions: row.sessions,
    });
    this.known.delete(hash);
    this.known.set(hash, { principal, until: now + TOKEN_CACHE_MS });
    if (this.known.size > CACHE_MAX) this.known.delete(this.known.keys().next().value as string);
    return principal;
  }

  /**
   * Throws ForbiddenError unless `p` has at least scope `need`, and, for writes into a session,
   * unless the session id matches the token's session glob. For a read of a session outside
   * the glob, throws NotFoundError instead (see {@link ReadScope.checkSession}): to that token
   * the session does not exist. Both are decided by the glob alone, not by what is stored.
   */
  authorize(p: Principal, need: Scope, session?: string): void {
    // A scope that is not one of the three (a row written before scopes were checked as own
    // keys) ranks below read: it grants nothing.
    const rank = Object.hasOwn(RANK, p.scope) ? RANK[p.scope] : 0;
    if (rank < RANK[need]) {
      throw new ForbiddenError(
        `this needs a token with scope '${need}'; yours has scope '${p.scope}'`,
      );
    }
    if (need === 'read' && session !== undefined) ReadScope.of(p).checkSession(session);
    if (
      need !== 'read' &&
      p.sessions &&
      p.scope !== 'admin' &&
      session !== undefined &&
      !compileGlob(p.sessions)(session)
    ) {
      throw new ForbiddenError(`this token may only write to sessions matching '${p.sessions}'`);
    }
  }

  async list(): Promise<TokenRecord[]> {
    return (await this.o.catalog.listTokens()).map(tokenRecord);
  }

  /** Deletes a token; from the moment this resolves, it authenticates nothing here. */
  async revoke(id: string): Promise<void> {
    await this.o.catalog.deleteToken(id);
    for (const [hash, k] of this.known) if (k.principal.tokenId === id) this.known.delete(hash);
  }
}
