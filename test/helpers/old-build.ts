import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './server.js';

const git = (...args: string[]) =>
  execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();

/**
 * The newest commit whose PostgreSQL schema is older than this tree's: the parent of the
 * newest commit that changed the migrations (CAIRN_UPGRADE_FROM names another).
 */
export function previousSchemaCommit(): string {
  const from = process.env.CAIRN_UPGRADE_FROM;
  if (from) return git('rev-parse', '--verify', `${from}^{commit}`);
  const changed = git(
    'log',
    '-n',
    '1',
    '--format=%H',
    '--',
    'src/catalog/postgres/pg-migrations.ts',
  );
  return git('rev-parse', `${changed}^`);
}

/**
 * Builds Cairn as it was at `commit` into a temp dir (`git archive` of its sources, this
 * tree's node_modules linked, `tsc`), leaving the repository untouched; returns the path of its
 * `bin/cairn.js` for spawnServer's `cli`. Takes about a minute on a busy machine.
 */
export function buildAt(commit: string): string {
  const dir = tempDir('cairn-old-');
  const parts = ['src', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
  execFileSync('sh', [
    '-c',
    `git -C "$1" archive "$2" ${parts.join(' ')} | tar -x -C "$3"`,
    'sh',
    ROOT,
    commit,
    dir,
  ]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: dir,
    },
  );
  return join(dir, 'bin/cairn.js');
}
