import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/server.js';

/** `cairn ARGS` on a pseudo-terminal COLS wide (script(1)), as a user's terminal shows it. */
function onTerminal(args: string, cols: number): string {
  const r = spawnSync(
    'script',
    ['-qec', `stty cols ${cols}; ${process.execPath} ${CLI} ${args}`, '/dev/null'],
    {
      encoding: 'utf8',
    },
  );
  return r.stdout.replace(/\r/g, '');
}

describe('--help on a narrow terminal', () => {
  it.each([50, 72])('wraps between words at %d columns, never inside one', (cols) => {
    const help = onTerminal('push --help', cols);
    const lines = help.split('\n');
    expect(lines.some((l) => l.length > cols)).toBe(false);
    // Joined back with spaces, every description reads whole: a word cut in two would not.
    const text = lines
      .map((l) => l.trim())
      .join(' ')
      .replace(/\s+/g, ' ');
    for (const phrase of [
      'API token (CAIRN_TOKEN; default: the local admin token)',
      'Skip files whose name and bytes match the latest version already pushed',
      'Push what symbolic links in directories point to (default: skip them)',
      'Artifact name (one file) or name prefix (directory)',
    ])
      expect(text).toContain(phrase);
  });
});
