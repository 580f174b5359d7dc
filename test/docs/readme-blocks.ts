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

/** A fenced ```sh or ```python block of the README and the `## Section` it is in. */
export interface ReadmeBlock {
  section: string;
  lang: 'sh' | 'python';
  code: string;
}

/** Every ```sh and ```python block of the README, in README order. */
export function readmeBlocks(): ReadmeBlock[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out: ReadmeBlock[] = [];
  let section = '';
  for (const m of text.matchAll(/^## (.+)$|^```(sh|python)\n([\s\S]*?)^```/gm)) {
    if (m[1] !== undefined) section = m[1];
    else out.push({ section, lang: m[2] as 'sh' | 'python', code: m[3] });
  }
  return out;
}
