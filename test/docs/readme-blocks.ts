import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/server.js';

/** The fenced blocks in `lang` (```sh, ```python, …) of one `## Section` of the README, in order. */
export function readmeSectionBlocks(section: string, lang: string): string[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf(`\n## ${section}\n`);
  if (start === -1) throw new Error(`README has no section '## ${section}'`);
  const end = text.indexOf('\n## ', start + 4);
  const body = text.slice(start, end === -1 ? undefined : end);
  return [...body.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** The ```sh blocks of one `## Section` of the README, in order. */
export function readmeShellBlocks(section: string): string[] {
  return readmeSectionBlocks(section, 'sh');
}

/** README text made local: `npx cairn` is this checkout's CLI, the default URL is `serverUrl`. */
export function localReadmeText(text: string, serverUrl: string): string {
  return text.replaceAll('npx cairn', `node ${CLI}`).replaceAll('http://127.0.0.1:7070', serverUrl);
}

/**
 * Runs a README shell block as written (`bash -euo pipefail`) in `cwd` against the server at
 * `serverUrl` (see {@link localReadmeText}); CAIRN_URL is that server and CAIRN_TOKEN is empty,
 * so the CLI finds the admin token in ./cairn-data by itself.
 */
export function runReadmeBlock(
  block: string,
  { cwd, serverUrl }: { cwd: string; serverUrl: string },
): SpawnSyncReturns<string> {
  return spawnSync('bash', ['-euo', 'pipefail', '-c', localReadmeText(block, serverUrl)], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CAIRN_URL: serverUrl, CAIRN_TOKEN: '' },
  });
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
