// `npm run crash-loop -- --cycles 200 [--clients 6] [--keep]`: the crash loop on demand, with a
// summary a person can read. Exit 0 only if nothing was lost, corrupt or left behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { problems, runCrashLoop } from './crash-loop.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '200' },
    clients: { type: 'string', default: '6' },
    keep: { type: 'boolean', default: false },
  },
});
const root = mkdtempSync(join(tmpdir(), 'cairn-crash-loop-'));
const started = Date.now();
const s = await runCrashLoop({
  dataDir: join(root, 'data'),
  cycles: Number(values.cycles),
  clients: Number(values.clients),
  log: (line) => process.stdout.write(`${line}\n`),
});
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
process.stdout.write(
  [
    '',
    `crash loop: ${s.cycles} kill -9 cycles in ${minutes} min, ${values.clients} concurrent clients`,
    `acknowledged: ${s.acked.pushes} pushes, ${s.acked.deletes} deletes, ${s.acked.seals} seals, ${s.acked.shares} share links (${s.acked.pushes - s.acked.deletes} artifacts live)`,
    `blobs between rename and catalog commit at the kills (start-up recovery's work): ${s.inFlightAtKill}`,
    `checked after restarts: ${s.checked} artifact records, ${s.bytesVerified} downloads rehashed, fsck after every restart`,
    `lost ${s.lost} · corrupt ${s.corrupt} · half-written ${s.halfWritten} · resurrected ${s.resurrected} · unsealed ${s.unsealed} · broken shares ${s.brokenShares} · temp files ${s.tempFiles} · fsck problems ${s.fsckProblems}`,
    ...s.failures.map((f) => `  FAIL ${f}`),
    problems(s) === 0 ? 'RESULT: OK' : 'RESULT: FAILED',
    values.keep ? `data dir kept: ${join(root, 'data')}` : '',
  ].join('\n') + '\n',
);
if (!values.keep) rmSync(root, { recursive: true, force: true });
process.exit(problems(s) === 0 ? 0 : 1);
