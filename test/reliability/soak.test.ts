import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { runSoak, soakReport } from './soak.js';

// The short version of `npm run soak -- --minutes 3` (see README "Reliability").
describe('soak (short): concurrent agents push, query, pull, seal and wait', () => {
  it('serves every request without an error', async () => {
    const root = tempDir('cairn-soak-');
    try {
      const s = await runSoak({
        dataDir: join(root, 'data'),
        durationMs: 6000,
        agents: 6,
        sampleMs: 500,
      });
      process.stdout.write(`${soakReport(s).join('\n')}\n`);
      expect(s.errorSamples).toEqual([]);
      expect(s.errors).toBe(0);
      for (const op of ['push', 'query', 'pull', 'seal', 'wait'])
        expect(s.byOp[op].count).toBeGreaterThan(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
