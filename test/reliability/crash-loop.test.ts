import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';
import { problems, runCrashLoop } from './crash-loop.js';

// The short version of `npm run crash-loop -- --cycles 200` (see README "Reliability").
describe('crash loop: kill -9 during concurrent pushes, deletes, seals and shares', () => {
  it('keeps every acknowledged write, shows nothing half-written, fsck clean after every restart', async () => {
    const root = tempDir('cairn-crash-');
    try {
      const s = await runCrashLoop({ dataDir: join(root, 'data'), cycles: 4, clients: 4 });
      expect(s.failures).toEqual([]);
      expect(problems(s)).toBe(0);
      expect(s.cycles).toBe(4);
      expect(s.acked.pushes).toBeGreaterThan(0);
      expect(s.checked).toBeGreaterThanOrEqual(s.acked.pushes - s.acked.deletes);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 180_000);
});
