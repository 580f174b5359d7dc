import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/server.js';

/** The ```sh blocks of one `## Section` of the README, in order. */
export function readmeShellBlocks(section: string): string[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf(`\n## ${section}\n`);
  if (start === -1) throw new Error(`README has no section '## ${section}'`);
  const end = text.indexOf('\n## ', start + 4);
  const body = text.slice(start, end === -1 ? undefined : end);
  return [...body.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}
