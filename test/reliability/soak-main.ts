// `npm run soak -- --minutes 3 [--agents 16]`: the soak on demand, with a readable summary.
// Exit 0 only if no request failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak, soakReport } from './soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    agents: { type: 'string', default: '16' },
  },
});
const root = mkdtempSync(join(tmpdir(), 'cairn-soak-'));
try {
  const s = await runSoak({
    dataDir: join(root, 'data'),
    durationMs: Number(values.minutes) * 60_000,
    agents: Number(values.agents),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `\n${soakReport(s).join('\n')}\nRESULT: ${s.errors === 0 ? 'OK' : 'FAILED'}\n`,
  );
  process.exitCode = s.errors === 0 ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
