import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { ArtifactRecord } from '../../core/types.js';
import { CairnError } from '../../lib/errors.js';
import type { CairnApi } from '../cairn-api.js';
import { HashingStream } from '../../lib/hashing-stream.js';
import { childOf } from '../opened-path.js';
import { fileToolError } from '../path-errors.js';
import type { WriteTarget } from '../path-guard.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/**
 * Streams an artifact's bytes into `target` (a directory opened by PathGuard) through a temp
 * file in that same open directory, verifying size and sha256 before the rename: a failed or
 * corrupt download leaves the old file (if any) untouched. The temp file and the rename go
 * through the open directory, so nothing lands elsewhere if a directory on the way is swapped
 * for a symlink meanwhile; the rename replaces a symlink at the target, never its target.
 * Closes `target.dir`.
 */
export async function pullToFile(
  api: CairnApi,
  rec: ArtifactRecord,
  target: WriteTarget,
): Promise<void> {
  const tmp = childOf(target.dir, target.dirReal, `.cairn-${randomBytes(6).toString('hex')}.part`);
  const meter = new HashingStream();
  let created = false;
  try {
    const body = await api.downloadById(rec.id);
    const out = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
    created = true;
    // The stream closes the handle when it ends or fails.
    await pipeline(body, meter, out.createWriteStream());
    if (!meter.matches(rec))
      throw new CairnError(
        'digest_mismatch',
        502,
        `the download of ${rec.session}/${rec.name} did not match its sha256; nothing was written`,
      );
    await rename(tmp, childOf(target.dir, target.dirReal, target.name));
    created = false;
  } catch (err) {
    throw fileToolError(err, target.real);
  } finally {
    if (created) await rm(tmp, { force: true });
    await target.dir.close();
  }
}
