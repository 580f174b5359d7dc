import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArtifactRecord } from '../../core/types.js';
import { CairnError } from '../../lib/errors.js';
import type { CairnApi } from '../cairn-api.js';
import { HashingStream } from '../../lib/hashing-stream.js';

/**
 * Streams an artifact's bytes into `target` through a temp file in the same directory,
 * verifying size and sha256 before the rename: a failed or corrupt download leaves the old
 * file (if any) untouched. The rename replaces a symlink at `target`, never its target.
 */
export async function pullToFile(
  api: CairnApi,
  rec: ArtifactRecord,
  target: string,
): Promise<void> {
  const tmp = join(dirname(target), `.cairn-${randomBytes(6).toString('hex')}.part`);
  const meter = new HashingStream();
  try {
    await pipeline(await api.downloadById(rec.id), meter, createWriteStream(tmp, { flags: 'wx' }));
    if (!meter.matches(rec))
      throw new CairnError(
        'digest_mismatch',
        502,
        `the download of ${rec.session}/${rec.name} did not match its sha256; nothing was written`,
      );
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
}
