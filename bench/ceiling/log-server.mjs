#!/usr/bin/env node
// Reference server: a durable push with no catalog at all. Each body is appended to one log
// file and a group fdatasync (one running at a time, covering every append before it) comes
// before the 201s. What a durable small push can cost on this disk with Node on one thread.
// Usage: node log-server.mjs <dir> <token>
import { appendFileSync, fdatasync, openSync } from 'node:fs';
import { join } from 'node:path';
import { servePushes } from './serve-push.mjs';

const [dir, token] = process.argv.slice(2);
const fd = openSync(join(dir, 'pushes.log'), 'a');
let waiting = [];
let syncing = false;
let seq = 0;

function sync() {
  if (syncing || waiting.length === 0) return;
  const group = waiting;
  waiting = [];
  syncing = true;
  fdatasync(fd, (err) => {
    if (err) throw err;
    syncing = false;
    for (const done of group) done();
    sync();
  });
}

servePushes(token, (push, done) => {
  const id = `a_${++seq}`;
  appendFileSync(fd, push.bytes);
  waiting.push(() => done({ id, version: 1 }));
  sync();
});
process.on('SIGTERM', () => process.exit(0));
