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

/**
 * True if `real` (an absolute, symlink-free path) is inside a directory that looks like a
 * Cairn data directory: any directory holding one of {@link DATA_DIR_MARKS}, from `top` (an
 * ancestor of `real`, itself checked) down to `real`'s parent; `real` itself counts when
 * `selfToo` (a directory about to receive a file). All the marks are looked up at once.
 */
export async function insideDataDir(real: string, top: string, selfToo = false): Promise<boolean> {
  const dirs: string[] = [];
  for (let dir = selfToo ? real : dirname(real); ; dir = dirname(dir)) {
    dirs.push(dir);
    if (dir === top || dirname(dir) === dir) break;
  }
  const found = await Promise.all(
    dirs.flatMap((dir) => DATA_DIR_MARKS.map((m) => lstat(join(dir, m)).then(yes, no))),
  );
  return found.includes(true);
}

const yes = () => true;
const no = () => false;

/**
 * The data directories a `cairn mcp` on this machine may sit next to, refused even before they
 * hold a mark: `$CAIRN_DATA` and `./cairn-data` (the CLI's defaults), as absolute paths.
 */
export function localDataDirs(cwd = process.cwd(), env = process.env): string[] {
  const dirs = [resolve(cwd, 'cairn-data')];
  if (env.CAIRN_DATA) dirs.push(resolve(cwd, env.CAIRN_DATA));
  return dirs;
}
