import { lstat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Files that make a directory a Cairn data directory (any one is enough). They are also the
 * secrets the MCP file tools refuse by name anywhere: a copy of admin.token or seal.key is as
 * good as the original.
 */
export const DATA_DIR_MARKS = ['admin.token', 'seal.key', 'catalog.db'] as const;

const SECRET_NAMES = new Set<string>([...DATA_DIR_MARKS, 'catalog.db-wal', 'catalog.db-shm']);

/** True if the last component of `path` is a Cairn secret file name. */
export function isSecretName(path: string): boolean {
  return SECRET_NAMES.has(basename(path));
}

/** True if `dir` holds any of {@link DATA_DIR_MARKS} (as any kind of entry). */
export async function looksLikeDataDir(dir: string): Promise<boolean> {
  for (const mark of DATA_DIR_MARKS) {
    const st = await lstat(join(dir, mark)).catch(() => null);
    if (st) return true;
  }
  return false;
}

/**
 * True if `real` (an absolute, symlink-free path) is inside a directory that looks like a
 * Cairn data directory: any ancestor, from `/` down to its parent, holding a mark. `real` itself
 * counts when `selfToo` (it is a directory about to receive a file).
 */
export async function insideDataDir(real: string, selfToo = false): Promise<boolean> {
  let dir = selfToo ? real : dirname(real);
  for (;;) {
    if (await looksLikeDataDir(dir)) return true;
    const up = dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

/**
 * The data directories a `cairn mcp` on this machine may sit next to, refused even before they
 * hold a mark: `$CAIRN_DATA` and `./cairn-data` (the CLI's defaults), as absolute paths.
 */
export function localDataDirs(cwd = process.cwd(), env = process.env): string[] {
  const dirs = [resolve(cwd, 'cairn-data')];
  if (env.CAIRN_DATA) dirs.push(resolve(cwd, env.CAIRN_DATA));
  return dirs;
}
