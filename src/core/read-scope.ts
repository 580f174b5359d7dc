import { NotFoundError } from '../lib/errors.js';
import { compileGlob } from '../lib/glob.js';
import type { Principal } from './token-service.js';
import type { WhereExpr } from './where.js';

/** The 404 of an artifact id that names nothing live: the same for a missing and a hidden one. */
export function artifactNotFound(id: string): NotFoundError {
  return new NotFoundError(`artifact '${id.slice(0, 64)}' not found (it may have expired)`);
}

/** The 404 of a share id that names no link: the same for a missing and a hidden one. */
export function shareNotFound(id: string): NotFoundError {
  return new NotFoundError(`share '${id.slice(0, 64)}' not found; see GET /v1/shares`);
}

/** A `where=` expression for the artifacts holding bytes `sha256`, other than `except`. */
export function heldBy(sha256: string, except = ''): WhereExpr {
  const column = (name: string) => ({ kind: 'column', column: name }) as const;
  return {
    kind: 'and',
    left: { kind: 'cmp', field: column('sha256'), op: '=', value: sha256 },
    right: { kind: 'cmp', field: column('id'), op: '!=', value: except },
  };
}

const scopes = new WeakMap<Principal, ReadScope>();

/**
 * Which sessions a caller may read: all of them, or those whose id matches the session glob of
 * its token. Anything in another session is invisible to it, as if it did not exist: lists and
 * queries leave it out (the glob is a condition of the catalog query, so pages stay full), and
 * lookups of it answer exactly the 404 of a missing thing. An admin token, or one without a
 * glob, reads everything.
 */
export class ReadScope {
  /** The scope of a token without a glob (and of public routes: they check their own links). */
  static readonly everything = new ReadScope(null);

  private readonly matches: (session: string) => boolean;

  private constructor(
    /** The session glob, or null if every session is visible. */
    readonly glob: string | null,
  ) {
    this.matches = glob === null ? () => true : compileGlob(glob);
  }

  /** The read scope of a caller (null: a public route). Cached per principal. */
  static of(p: Principal | null): ReadScope {
    if (!p || !p.sessions || p.scope === 'admin') return ReadScope.everything;
    let scope = scopes.get(p);
    if (!scope) scopes.set(p, (scope = new ReadScope(p.sessions)));
    return scope;
  }

  /** True if the caller may see session `id` (a link without a session only when unlimited). */
  sees(id: string | null): boolean {
    return id === null ? this.glob === null : this.matches(id);
  }

  /**
   * Throws 404 `not_found` unless the caller may see session `id`. Decided by the glob alone,
   * never by whether the session exists, so the answer says nothing about other sessions.
   */
  checkSession(id: string): void {
    if (!this.sees(id)) {
      throw new NotFoundError(
        `session '${id.slice(0, 128)}' not found: this token reads only sessions matching '${this.glob}'`,
      );
    }
  }

  /** `rec` if the caller may see its session; else the 404 of a missing artifact. */
  artifact<T extends { id: string; session: string }>(rec: T): T {
    if (!this.sees(rec.session)) throw artifactNotFound(rec.id);
    return rec;
  }
}
