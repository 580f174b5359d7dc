import { existsSync } from 'node:fs';
import { readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Linux's view of a process's open files: `/proc/self/fd/N` names what fd N is, by inode. */
const PROC_FD = existsSync('/proc/self/fd') ? '/proc/self/fd' : null;

/**
 * Where the file or directory open as `handle` really is now. On Linux the kernel says
 * (`/proc/self/fd/N`), so no path trick can fool it. Elsewhere `expected` (the path it was
 * opened by) is resolved again and must name the same device and inode; null if it no longer
 * does (the path was changed after the open).
 */
export async function openedPath(handle: FileHandle, expected: string): Promise<string | null> {
  if (PROC_FD) {
    const p = await readlink(`${PROC_FD}/${handle.fd}`);
    return p.endsWith(' (deleted)') ? null : p;
  }
  const again = await realpath(expected).catch(() => null);
  if (again === null) return null;
  const [a, b] = await Promise.all([handle.stat(), stat(again).catch(() => null)]);
  return b && a.dev === b.dev && a.ino === b.ino ? again : null;
}

/**
 * A path naming `name` inside the directory open as `dir` (whose real path is `dirReal`). On
 * Linux it goes through the open directory itself (`/proc/self/fd/N/name`, like openat(2)), so
 * swapping a directory on the way for a symlink cannot redirect it; elsewhere it is the plain
 * path, checked after use by {@link openedPath}.
 */
export function childOf(dir: FileHandle, dirReal: string, name: string): string {
  return PROC_FD ? `${PROC_FD}/${dir.fd}/${name}` : join(dirReal, name);
}
