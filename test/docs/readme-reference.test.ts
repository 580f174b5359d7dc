import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { allRoutes } from '../../src/server/routes/index.js';
import { ROOT } from '../helpers/server.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = (name: string) => {
  const start = readme.indexOf(`\n## ${name}\n`);
  expect(start, `README section ${name}`).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end === -1 ? undefined : end);
};

/** How the README writes a route: `PUT /v1/sessions/{sid}/artifacts/{name…}`. */
export function documentedForm(method: string, path: string): string {
  return `${method} ${path.replace(/:([a-z0-9_]+)/g, '{$1}').replace(/\*([a-z0-9_]+)/g, '{$1…}')}`;
}

// Datasette's habit: a route or command nobody documented fails the build.
describe('README reference is complete', () => {
  const api = section('HTTP API');
  it.each(allRoutes().map((r) => documentedForm(r.method, r.path)))('HTTP API documents `%s`', (form) => {
    expect(api).toContain(`\`${form}\``);
  });

  const cli = section('CLI');
  it.each(commands.map((c) => String(c.command).split(' ')[0]))('CLI documents `cairn %s`', (name) => {
    expect(cli).toContain(`cairn ${name}`);
  });
});
