import { CairnError } from '../lib/errors.js';

/** 403 `path_not_allowed`: a local path outside what the MCP file tools may touch. */
export class PathNotAllowedError extends CairnError {
  /**
   * @param roots the allowed directories; none means the file tools are off.
   * @param offHint with no roots: how to turn the file tools on (names the right flag).
   */
  constructor(path: string, roots: string[], offHint: string) {
    super(
      'path_not_allowed',
      403,
      roots.length
        ? `'${path}' is outside the directories this MCP server may read and write (after resolving symlinks), or inside a Cairn data directory; use a path under ${roots.map((r) => `'${r}'`).join(', ')}`
        : `this MCP server has no local directories enabled, so push_file and pull_artifact are off; use push_artifact / read_artifact, or ${offHint}`,
      { details: { allowed_roots: roots } },
    );
  }
}

/** 403 `path_not_allowed` for a Cairn data directory or one of its secret files. */
export class DataDirRefusedError extends CairnError {
  constructor(path: string) {
    super(
      'path_not_allowed',
      403,
      `'${path}' is a Cairn data directory or a Cairn secret file (admin.token, seal.key, catalog.db); the MCP file tools never read or write these; pick another path`,
    );
  }
}

/**
 * 409 `path_changed`: the path was changed while it was being opened (a directory swapped for
 * a symlink, or removed) and no longer leads where it was checked to; nothing was read or
 * written through it.
 */
export class PathChangedError extends CairnError {
  constructor(path: string, cause?: unknown) {
    super(
      'path_changed',
      409,
      `'${path}' changed while it was being opened (a directory or link was moved or replaced); nothing was read or written; call the tool again once the path is stable`,
      { cause },
    );
  }
}

/**
 * A CairnError for a failed file-system call on `path` made by a file tool: a vanished file is
 * `file_not_found`, a path whose kind changed underneath (ELOOP, ENOTDIR, EISDIR…) is
 * {@link PathChangedError}, a permission error `file_not_accessible`. Errors that are not
 * file-system errors are returned unchanged.
 */
export function fileToolError(err: unknown, path: string): unknown {
  if (err instanceof CairnError) return err;
  switch ((err as NodeJS.ErrnoException)?.code) {
    case 'ENOENT':
      return new CairnError('file_not_found', 404, `no file at '${path}'; check the path`, {
        cause: err,
      });
    case 'ELOOP':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EXDEV':
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new PathChangedError(path, err);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new CairnError(
        'file_not_accessible',
        403,
        `'${path}' cannot be opened: the MCP server's user lacks permission (or the disk is read-only); pick another path`,
        { cause: err },
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return new CairnError(
        'local_disk_full',
        507,
        `the local disk is full; nothing was written to '${path}'; free space and retry`,
        { cause: err },
      );
    default:
      return err;
  }
}
