import { resolve } from 'node:path';
import { InvalidInputError } from './errors.js';

/** A factory of one backend of an interface: opens the store a URL names. */
export type BackendFactory<T, O> = (url: string, opts: O) => Promise<T>;

/**
 * Maps URL schemes (`sqlite:`, `file:`, later `postgres:`, `s3:`) to the factories of one
 * interface, so a new backend is a registration, not an edit of the wiring. One registry per
 * interface (see catalog-registry.ts and blob-store-registry.ts).
 */
export class BackendRegistry<T, O> {
  private readonly factories = new Map<string, BackendFactory<T, O>>();
  private readonly validators = new Map<string, (url: string) => void>();

  /**
   * @param what What the backends are, as the user reads it ("catalog").
   * @param flag The option that chooses one ("--catalog"), named in errors.
   */
  constructor(
    readonly what: string,
    readonly flag: string,
  ) {}

  /**
   * Registers `scheme` (lowercase, with its colon: `sqlite:`); throws if already taken.
   * `validate(url)` checks a URL's form without opening anything (throwing InvalidInputError),
   * so a malformed one stops the start before the data directory is touched.
   */
  register(scheme: string, factory: BackendFactory<T, O>, validate?: (url: string) => void): void {
    if (!/^[a-z][a-z0-9+.-]*:$/.test(scheme)) throw new Error(`bad scheme '${scheme}'`);
    if (this.factories.has(scheme)) throw new Error(`${this.what} scheme ${scheme} is taken`);
    this.factories.set(scheme, factory);
    if (validate) this.validators.set(scheme, validate);
  }

  /** The registered schemes, in registration order. */
  schemes(): string[] {
    return [...this.factories.keys()];
  }

  /**
   * Opens the backend `url` names: {@link check}, then the factory, whose errors pass through.
   */
  async open(url: string, opts: O): Promise<T> {
    return this.check(url)(url, opts);
  }

  /**
   * The factory for `url`, without opening anything. Throws
   * InvalidInputError(`invalid_backend_url`) for text without a scheme or a form its backend
   * refuses, and (`unknown_backend`) for a scheme nobody registered, naming the known ones.
   */
  check(url: string): BackendFactory<T, O> {
    const scheme = schemeOf(url);
    const known = this.schemes().join(', ');
    if (!scheme)
      throw new InvalidInputError(
        'invalid_backend_url',
        `${this.flag} '${url.slice(0, 200)}' is not a URL; give a scheme, one of ${known} (e.g. ${this.schemes()[0]}/path)`,
      );
    const factory = this.factories.get(scheme);
    if (!factory)
      throw new InvalidInputError(
        'unknown_backend',
        `${this.flag}: no ${this.what} backend for '${scheme}'; this build knows ${known}`,
      );
    this.validators.get(scheme)?.(url);
    return factory;
  }
}

/** The lowercased scheme of `url` with its colon, or null if it has none. */
export function schemeOf(url: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  // One letter before the colon is a Windows drive, not a scheme.
  return m && m[1].length > 1 ? `${m[1].toLowerCase()}:` : null;
}

/**
 * The local path of a path-style URL (`sqlite:`, `file:`): `scheme:/abs/path`,
 * `scheme:///abs/path` or `scheme:relative/path` (resolved against the working directory).
 * The path is taken literally: no %-decoding, no query string. Throws
 * InvalidInputError(`invalid_backend_url`) for a host (`scheme://host/...`) or an empty path.
 */
export function localPathOf(url: string, flag: string): string {
  const scheme = schemeOf(url) ?? '';
  let rest = url.slice(scheme.length);
  if (rest.startsWith('//')) {
    if (!rest.startsWith('///'))
      throw new InvalidInputError(
        'invalid_backend_url',
        `${flag} '${url.slice(0, 200)}' names a host; ${scheme} takes a local path: ${scheme}/abs/path or ${scheme}///abs/path`,
      );
    rest = rest.slice(2);
  }
  if (rest === '')
    throw new InvalidInputError('invalid_backend_url', `${flag} '${url}' has no path`);
  return resolve(rest);
}

/** The path-style URL of a local path (the inverse of {@link localPathOf}). */
export function localUrl(scheme: string, path: string): string {
  return `${scheme}${resolve(path)}`;
}
