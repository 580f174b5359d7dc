#!/usr/bin/env node
// Regenerates the route table in README.md (between the routes markers) from the server's
// route table, so the reference cannot drift from the code. Run after `npm run build`.
import { readFileSync, writeFileSync } from 'node:fs';
import { allRoutes } from '../build/server/routes/index.js';

const form = (r) =>
  `${r.method} ${r.path.replace(/:([a-z0-9_]+)/g, '{$1}').replace(/\*([a-z0-9_]+)/g, '{$1…}')}`;
const rows = allRoutes().map(
  (r) => `| \`${form(r)}\` | ${r.access} | ${r.summary.replace(/\|/g, '\\|')} |`,
);
const table = ['| route | token scope | what |', '|---|---|---|', ...rows].join('\n');
const readme = readFileSync('README.md', 'utf8');
const next = readme.replace(
  /<!-- routes:start -->[\s\S]*<!-- routes:end -->/,
  `<!-- routes:start -->\n${table}\n<!-- routes:end -->`,
);
writeFileSync('README.md', next);
console.log(`${rows.length} routes written to README.md`);
