#!/usr/bin/env node
// Reference server: the minimal HTTP half (serve-push.mjs) in front of Cairn's own SQLite
// catalog (build/, full durability: group commit, WAL fsync, checkpoints) on a writer thread
// of its own, reached in one message per push. What a push costs when it is one artifact row
// and its inline bytes in SQLite, with everything else as cheap as it gets.
// Usage: node row-server.mjs <dir> <token>
import { setImmediate } from 'node:timers';
import { Worker } from 'node:worker_threads';
import { servePushes } from './serve-push.mjs';

const [dir, token] = process.argv.slice(2);
const writer = new Worker(new URL('./row-writer.mjs', import.meta.url), { workerData: { dir } });
const waiting = new Map();
let next = 0;
let outbox = [];
writer.on('message', (answers) => {
  for (const [tag, answer] of answers) {
    waiting.get(tag)(answer);
    waiting.delete(tag);
  }
});
writer.on('error', (err) => {
  throw err;
});
writer.once('online', () =>
  servePushes(token, (push, done) => {
    const tag = ++next;
    waiting.set(tag, done);
    // One message per turn of the event loop.
    if (outbox.push({ tag, ...push }) === 1)
      setImmediate(() => {
        writer.postMessage(outbox);
        outbox = [];
      });
  }),
);
process.on('SIGTERM', () => writer.terminate().then(() => process.exit(0)));
