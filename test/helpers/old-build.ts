import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './server.js';

const git = (...args: string[]) =>
  execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();

const MIGRATIONS = 'src/catalog/postgres/pg-migrations.ts';

/** How many PostgreSQL migrations the text of pg-migrations.ts lists (from 2 on each says "// N:"). */
function schemaOf(text: string): number {
  return Math.max(1, ...[...text.matchAll(/^ {2}\/\/ (\d+):/gm)].map((m) => Number(m[1])));
}

/**
 * The newest commit of this branch's first-parent history (merges as one step, so never a
 * side branch's schema) whose PostgreSQL schema is older than this tree's
 * (CAIRN_UPGRADE_FROM names another). Needs the git history, not a shallow clone.
 */
export function previousSchemaCommit(): string {
  const from = process.env.CAIRN_UPGRADE_FROM;
  if (from) return git('rev-parse', '--verify', `${from}^{commit}`);
  const now = schemaOf(git('show', `HEAD:${MIGRATIONS}`));
  const changes = git('log', '--first-parent', '--format=%H', '--', MIGRATIONS).split('\n');
  for (const c of changes) {
    const before = git('show', `${c}^1:${MIGRATIONS}`);
    if (schemaOf(before) < now) return git('rev-parse', `${c}^1`);
  }
  throw new Error(`no commit in this history has fewer than ${now} PostgreSQL migrations`);
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
