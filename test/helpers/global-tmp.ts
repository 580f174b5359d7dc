import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest global setup: one directory holds every temp dir of the run (see tempDir), removed
 * when the run ends, so runs do not leave thousands of data dirs in /tmp.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'cairn-tests-'));
  process.env.CAIRN_TEST_TMP = root;
  return () => rmSync(root, { recursive: true, force: true });
}
