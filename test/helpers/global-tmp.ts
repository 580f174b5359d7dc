import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest global setup: one directory holds every temp dir of the run (see tempDir), removed
 * when the run ends, so runs do not leave thousands of data dirs in /tmp (nor push caches in
 * ~/.cache).
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'cairn-tests-'));
  process.env.CAIRN_TEST_TMP = root;
  // `cairn push DIR` remembers hashes in the user's cache dir: keep the run's out of ~/.cache.
  process.env.XDG_CACHE_HOME = join(root, 'xdg-cache');
  return () => rmSync(root, { recursive: true, force: true });
}
