import { constants, existsSync, realpathSync, statSync } from 'node:fs';
import { mkdir, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InvalidInputError, CairnError } from '../lib/errors.js';
import { DATA_DIR_MARKS, insideDataDir, isSecretName } from './data-dir-marks.js';
import { childOf, openedPath } from './opened-path.js';
import {
  DataDirRefusedError,
  PathChangedError,
  PathNotAllowedError,
  fileToolError,
} from './path-errors.js';

export { PathNotAllowedError, PathChangedError } from './path-errors.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

/** A regular file under a root, open for reading; the caller closes `handle`. */
export interface OpenedFile {
  handle: FileHandle;
  /** Its real path, as the kernel saw it once open. */
  real: string;
}

/** Where to write one file: a directory under a root, open; the caller closes `dir`. */
export interface WriteTarget {
  dir: FileHandle;
  /** The directory's real path. */
  dirReal: string;
  /** The file's name in it. */
  name: string;
  /** `dirReal/name`, for messages. */
  real: string;
}

/**
 * Confines the MCP file tools to a set of root directories, race-free: a file is opened first
 * and then checked by what the kernel says it is (`/proc/self/fd` on Linux), directories are
 * walked and created through open descriptors, so swapping a directory for a symlink between
 * check and use cannot lead outside a root (the tool fails with `path_changed`). Symlinks
 * that stay inside a root are followed. Never reachable, even under a root: the `deny`
 * directories, any directory that looks like a Cairn data directory (it holds admin.token,
 * seal.key or catalog.db) and files with those names. Relative paths start at the first
 * root. Hard links are not detected: a hard link under a root to a file elsewhere is that file.
 */
export class PathGuard {
  /** The roots, as real absolute paths. */
  readonly roots: string[];

  private readonly deny: string[];
  private readonly offHint: string;

  /**
   * @param roots directories (must exist; they are resolved with realpath once, here). None:
   *   the file tools are off and every path is refused.
   * @param opts.deny paths refused even under a root (the server's data directory).
   * @param opts.offHint with no roots, how to turn the file tools on (names the right flag).
   * @throws InvalidInputError `invalid_allow_path` for a missing root, a file, or a root inside
   *   a denied or data directory.
   */
  constructor(roots: string[], opts: { deny?: string[]; offHint?: string } = {}) {
    this.offHint = opts.offHint ?? 'ask the operator to allow a directory';
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
      if (this.deny.some((d) => within(d, real)) || dataDirAboveSync(real))
        throw new InvalidInputError(
          'invalid_allow_path',
          `allowed path '${r}' is inside a Cairn data directory, which the MCP file tools never touch; allow a directory outside it`,
        );
      return real;
    });
  }

  /**
   * Opens an existing regular file under a root for reading. Throws PathNotAllowedError if it
   * (or what a symlink leads to) is outside the roots or in a data directory, `file_not_found`
   * if missing, `not_a_file` for a directory or device, PathChangedError if the path was
   * changed while it was being opened.
   */
  async openReadable(path: string): Promise<OpenedFile> {
    const abs = this.absolute(path);
    let real: string;
    try {
      real = await realpath(abs);
    } catch (err) {
      // Refuse before saying whether a path outside the roots exists (also through a link).
      const { real: known } = await deepestReal(abs);
      if (!this.inRoots(abs) || known === null || !this.inRoots(known)) throw this.notAllowed(path);
      throw fileToolError(err, path);
    }
    await this.check(real, path);
    // O_NONBLOCK: a FIFO put there must not hang the server; it is refused below.
    const handle = await open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((err: unknown) => {
      throw fileToolError(err, path);
    });
    try {
      // Where it is first: what is outside is not described, not even its kind.
      const opened = await openedPath(handle, real);
      if (opened === null || !(await this.allows(opened))) throw new PathChangedError(path);
      if (!(await handle.stat()).isFile())
        throw new CairnError('not_a_file', 400, `'${path}' is not a regular file; name a file`);
      return { handle, real: opened };
    } catch (err) {
      await handle.close();
      throw fileToolError(err, path);
    }
  }

  /**
   * Opens the directory a file at `path` is to be written into, creating missing directories
   * (inside a root only). An existing directory at `path` means "into it, as `fallbackName`".
   * The file itself is not touched: callers create a temp file and rename it over `name`
   * through {@link childOf}, which replaces a symlink at `name`, never its target. Throws like
   * {@link openReadable}.
   */
  async openWritable(path: string, fallbackName: string): Promise<WriteTarget> {
    const abs = this.absolute(path);
    let dirAbs = dirname(abs);
    let name = basename(abs);
    const existing = await realpath(abs).catch(() => null);
    if (existing !== null) {
      await this.check(existing, path);
      if ((await stat(existing).catch(() => null))?.isDirectory()) {
        dirAbs = existing;
        name = fallbackName;
      }
    }
    if (isSecretName(name)) throw new DataDirRefusedError(path);
    const { dir, real } = await this.openDir(dirAbs, path);
    try {
      const opened = await openedPath(dir, real);
      if (opened === null || !(await this.allows(join(opened, name))))
        throw new PathChangedError(path);
      return { dir, dirReal: opened, name, real: join(opened, name) };
    } catch (err) {
      await dir.close();
      throw fileToolError(err, path);
    }
  }

  /** Opens `dir` (created if missing, one level at a time through open directories). */
  private async openDir(dir: string, original: string): Promise<{ dir: FileHandle; real: string }> {
    // Check the deepest existing ancestor before creating anything.
    const found = await deepestReal(dir);
    let real = found.real;
    if (real === null || !this.inRoots(real)) throw this.notAllowed(original);
    await this.check(real, original, true);
    const flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
    let handle = await open(real, flags).catch((err: unknown) => {
      throw fileToolError(err, original);
    });
    try {
      for (const part of found.missing) {
        const at = childOf(handle, real, part);
        await mkdir(at).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
        const next = await open(at, flags);
        await handle.close();
        handle = next;
        real = join(real, part);
      }
      return { dir: handle, real };
    } catch (err) {
      await handle.close();
      throw fileToolError(err, original);
    }
  }

  /** The absolute (not yet resolved) form of a user path. */
  private absolute(path: string): string {
    if (this.roots.length === 0) throw this.notAllowed(path);
    return isAbsolute(path) ? resolve(path) : resolve(this.roots[0], path);
  }

  private notAllowed(path: string): PathNotAllowedError {
    return new PathNotAllowedError(path, this.roots, this.offHint);
  }

  private inRoots(real: string): boolean {
    return this.roots.some((r) => within(r, real));
  }

  /** True if a tool may touch the resolved path `real` (a directory to write in if `isDir`). */
  private async allows(real: string, isDir = false): Promise<boolean> {
    return (
      this.inRoots(real) &&
      !this.deny.some((d) => within(d, real)) &&
      !isSecretName(real) &&
      // The roots' own ancestors were checked at start (dataDirAboveSync).
      !(await insideDataDir(real, this.roots.find((r) => within(r, real)) ?? '/', isDir))
    );
  }

  /** Throws the error that says why the resolved path `real` is refused, if it is. */
  private async check(real: string, original: string, isDir = false): Promise<void> {
    if (!this.inRoots(real)) throw this.notAllowed(original);
    if (!(await this.allows(real, isDir))) throw new DataDirRefusedError(original);
  }
}

/** True if `path` is `dir` or below it (both absolute, resolved). */
function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The real path of the deepest existing ancestor of `abs` (or itself), and the parts below. */
async function deepestReal(abs: string): Promise<{ real: string | null; missing: string[] }> {
  const missing: string[] = [];
  for (let probe = abs; ; probe = dirname(probe)) {
    const real = await realpath(probe).catch(() => null);
    if (real !== null || dirname(probe) === probe) return { real, missing };
    missing.unshift(basename(probe));
  }
}

/** True if `dir` or an ancestor holds a data directory mark (checked once, at start). */
function dataDirAboveSync(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (DATA_DIR_MARKS.some((m) => existsSync(join(d, m)))) return true;
    if (dirname(d) === d) return false;
  }
}
