/**
 * Hostile local paths for the MCP file tools (push_file reads them, pull_artifact writes
 * them), relative to an allowed root laid out by {@link layHostileTree}. Each must come back
 * as an isError result with `code`, and nothing under `cairn-data/`, `copy-data/` or
 * `outside/` may be read or written. These are tool calls, not HTTP requests, so they live
 * beside hostile-corpus.ts rather than in its table of 4xx requests.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HostileMcpPath {
  name: string;
  tool: 'push_file' | 'pull_artifact';
  path: string;
  code: string;
}

/**
 * Lays out, under `root` (the allowed directory, which holds the server's data directory at
 * `cairn-data/`): a copy of a data directory, links into both, and a link out to `outside`.
 */
export function layHostileTree(root: string, outside: string): void {
  mkdirSync(join(root, 'copy-data', 'blobs'), { recursive: true });
  writeFileSync(join(root, 'copy-data', 'seal.key'), 'copied seal key');
  writeFileSync(join(root, 'copy-data', 'blobs', 'b'), 'copied blob');
  mkdirSync(join(root, 'loose'), { recursive: true });
  writeFileSync(join(root, 'loose', 'admin.token'), 'a stray token copy');
  symlinkSync(join(root, 'cairn-data'), join(root, 'to-data'));
  symlinkSync(join(root, 'cairn-data', 'admin.token'), join(root, 'token-link'));
  symlinkSync(outside, join(root, 'to-outside'));
}

const reads: [string, string][] = [
  ['admin token', 'cairn-data/admin.token'],
  ['seal key', 'cairn-data/seal.key'],
  ['catalog', 'cairn-data/catalog.db'],
  ['catalog WAL', 'cairn-data/catalog.db-wal'],
  ['dot-dot into the data dir', 'loose/../cairn-data/seal.key'],
  ['symlinked data dir', 'to-data/admin.token'],
  ['symlink to the token', 'token-link'],
  ['a data-dir look-alike', 'copy-data/seal.key'],
  ['a blob in a look-alike', 'copy-data/blobs/b'],
  ['a stray token copy', 'loose/admin.token'],
];

const writes: [string, string][] = [
  ['into the data dir', 'cairn-data/planted.txt'],
  ['over the admin token', 'cairn-data/admin.token'],
  ['a new dir in the data dir', 'cairn-data/new/planted.txt'],
  ['the data dir itself (into it)', 'cairn-data'],
  ['through a symlinked data dir', 'to-data/planted.txt'],
  ['into a look-alike', 'copy-data/planted.txt'],
  ['a secret name anywhere', 'loose/seal.key'],
];

/** The table: every read and write above refused as `path_not_allowed`, plus links out. */
export function hostileMcpPaths(): HostileMcpPath[] {
  return [
    ...reads.map(([n, path]) => ({
      name: `read ${n}`,
      tool: 'push_file' as const,
      path,
      code: 'path_not_allowed',
    })),
    ...writes.map(([n, path]) => ({
      name: `write ${n}`,
      tool: 'pull_artifact' as const,
      path,
      code: 'path_not_allowed',
    })),
    {
      name: 'read through a link out',
      tool: 'push_file',
      path: 'to-outside/x',
      code: 'path_not_allowed',
    },
    {
      name: 'write through a link out',
      tool: 'pull_artifact',
      path: 'to-outside/x',
      code: 'path_not_allowed',
    },
  ];
}
