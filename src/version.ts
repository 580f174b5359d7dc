import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __CAIRN_VERSION__: string | undefined;
declare const __CAIRN_COMMIT__: string | undefined;

/** Cairn's version, the commit it was built from, and the Node.js it runs on. */
export function versionInfo(): { version: string; commit: string; node: string } {
  return { version: version(), commit: commit(), node: process.version };
}

function packageRoot(): string | null {
  try {
    return join(dirname(fileURLToPath(import.meta.url)), '..');
  } catch {
    return null;
  }
}

function version(): string {
  if (typeof __CAIRN_VERSION__ !== 'undefined') return __CAIRN_VERSION__;
  const root = packageRoot();
  try {
    return (
      JSON.parse(readFileSync(join(root ?? '.', 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

function commit(): string {
  if (typeof __CAIRN_COMMIT__ !== 'undefined') return __CAIRN_COMMIT__;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: packageRoot() ?? '.',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}
