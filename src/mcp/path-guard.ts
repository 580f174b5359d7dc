import { realpathSync, statSync } from 'node:fs';
import { mkdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CairnError, InvalidInputError } from '../lib/errors.js';

/** 403 `path_not_allowed`: a local path outside the directories the MCP server may touch. */
export class PathNotAllowedError extends CairnError {
  constructor(path: string, roots: string[]) {
    super(
      'path_not_allowed',
      403,
      roots.length
        ? `'${path}' is outside the directories this MCP server may read and write (after resolving symlinks); use a path under ${roots.map((r) => `'${r}'`).join(', ')}`
        : 'this MCP server has no local directories enabled, so push_file and pull_artifact are off; use push_artifact / read_artifact, or ask the operator to start it with --allow-path DIR',
      { details: { allowed_roots: roots } },
    );
  }
}

/**
 * Confines local file access of the MCP tools to a set of root directories. Every check
 * resolves symlinks (realpath) before comparing, so a link inside a root that points outside
 * is refused. Relative paths are taken relative to the first root.
 */
export class PathGuard {
  /** The roots, as real absolute paths. */
  readonly roots: string[];

  private readonly deny: string[];

  /**
   * @param roots directories (must exist; they are resolved with realpath once, here).
   * @param opts.deny paths refused even under a root (e.g. the server's data directory).
   */
  constructor(roots: string[], opts: { deny?: string[] } = {}) {
    this.deny = (opts.deny ?? []).map((d) => {
      try {
        return realpathSync(resolve(d));
      } catch {
        return resolve(d);
      }
    });
    this.roots = roots.map((r) => {
      let real: string;
      try {
        real = realpathSync(resolve(r));
      } catch {
        throw new InvalidInputError('invalid_allow_path', `allowed path '${r}' does not exist`);
      }
      if (!statSync(real).isDirectory())
        throw new InvalidInputError('invalid_allow_path', `allowed path '${r}' is not a directory`);
      return real;
    });
  }

  /** The absolute (not yet resolved) form of a user path. */
  private absolute(path: string): string {
    if (this.roots.length === 0) throw new PathNotAllowedError(path, this.roots);
    return isAbsolute(path) ? resolve(path) : resolve(this.roots[0], path);
  }

  private inside(real: string): boolean {
    return this.roots.some((r) => within(r, real)) && !this.deny.some((d) => within(d, real));
  }

  /**
   * The real path of an existing regular file under a root. Throws PathNotAllowedError if it
   * (or what a symlink points to) is outside, NotFound-style `file_not_found` if missing.
   */
  async readableFile(path: string): Promise<string> {
    const abs = this.absolute(path);
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      // Refuse before saying whether a path outside the roots exists.
      if (!this.inside(abs)) throw new PathNotAllowedError(path, this.roots);
      throw new CairnError('file_not_found', 404, `no file at '${path}'; check the path`);
    }
    if (!this.inside(real)) throw new PathNotAllowedError(path, this.roots);
    const st = await stat(real);
    if (!st.isFile())
      throw new CairnError('not_a_file', 400, `'${path}' is not a regular file; name a file`);
    return real;
  }

  /**
   * Where to write `path`: its parent directory is created (inside a root) and resolved with
   * realpath; an existing directory at `path` means "into it, as `fallbackName`". The returned
   * path's final component is not followed: callers write a temp file and rename over it.
   */
  async writableFile(path: string, fallbackName: string): Promise<string> {
    let abs = this.absolute(path);
    const existing = await realpath(abs).catch(() => null);
    if (existing !== null) {
      if (!this.inside(existing)) throw new PathNotAllowedError(path, this.roots);
      if ((await stat(existing)).isDirectory()) abs = join(existing, fallbackName);
    }
    const parent = await this.realParent(dirname(abs), path);
    return join(parent, basename(abs));
  }

  /** Real path of `dir`, created if missing, refused unless inside a root. */
  private async realParent(dir: string, original: string): Promise<string> {
    // Find the deepest existing ancestor and check it before creating anything.
    let probe = dir;
    let real: string | null = null;
    for (;;) {
      real = await realpath(probe).catch(() => null);
      if (real !== null || dirname(probe) === probe) break;
      probe = dirname(probe);
    }
    if (real === null || !this.inside(real)) throw new PathNotAllowedError(original, this.roots);
    const target = join(real, relative(probe, dir));
    await mkdir(target, { recursive: true });
    const final = await realpath(target);
    if (!this.inside(final)) throw new PathNotAllowedError(original, this.roots);
    return final;
  }
}

/** True if `path` is `dir` or below it (both absolute, resolved). */
function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
