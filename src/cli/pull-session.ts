import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { CairnClient } from '../client/cairn-client.js';
import { segment } from '../client/url-path.js';
import { transferProgress } from './transfer-progress.js';

/** Files up to this size are received whole and written with one call. */
const SMALL = 1024 * 1024;

/** A file written by {@link pullSession}. */
export interface Written {
  id: string | undefined;
  name: string;
  path: string;
  size: number;
}

/** A file {@link pullSession} could not write, and why, in words. */
export interface NotWritten {
  name: string;
  reason: string;
}

/**
 * Downloads the latest version of every artifact of `session` into `dir` in one streamed
 * request (`GET /v1/sessions/{sid}/batch`): each file goes to a temp file beside its target,
 * is checked against its sha256, then renamed into place. A name that would land outside
 * `dir`, or that this filesystem cannot hold (a segment over its length limit, `x` beside
 * `x/y`), is reported in the second list and the rest still lands. Rejects (CairnApiError) if
 * the server refuses, or if the stream breaks off.
 */
export async function pullSession(
  client: CairnClient,
  session: string,
  dir: string,
  totals: { files: number; bytes: number },
): Promise<{ written: Written[]; failed: NotWritten[] }> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const realRoot = realpathSync(root);
  const res = await client.request('GET', `/v1/sessions/${segment(session, 'session id')}/batch`);
  const progress = transferProgress('pull', totals.files, totals.bytes);
  const extract = tar.extract();
  const reading = pipeline(res, extract);
  const written: Written[] = [];
  const failed: NotWritten[] = [];
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      const pax = (entry.header.pax ?? {}) as Record<string, string>;
      const sha256 = pax['CAIRN.sha256'];
      const target = resolve(root, ...name.split('/'));
      try {
        if (!target.startsWith(root + sep) || entry.header.type !== 'file')
          throw new Error('an unsafe entry (outside the directory, or not a file); skipped');
        checkInside(realRoot, dirname(target));
        await save(entry as AsyncIterable<Buffer>, target, entry.header.size ?? 0, sha256, (n) =>
          progress.bytes(n),
        );
        written.push({ id: pax['CAIRN.id'], name, path: target, size: entry.header.size ?? 0 });
      } catch (err) {
        failed.push({ name, reason: describe(err, name) });
        // The next entry only comes once this one is read to its end.
        for await (const _ of entry) void _;
      }
      progress.filesDone(1);
    }
    await reading;
  } finally {
    progress.end();
    extract.destroy();
  }
  return { written, failed };
}

/**
 * Throws unless `folder`, followed through the symbolic links already on disk, lies inside
 * `realRoot`: a link planted in the directory must not carry a file (or the folders made for
 * it) elsewhere. Checked at the deepest folder that exists; what is made below it stays there.
 */
function checkInside(realRoot: string, folder: string): void {
  let existing = folder;
  while (!existsSync(existing)) existing = dirname(existing);
  const real = realpathSync(existing);
  if (real !== realRoot && !real.startsWith(realRoot + sep))
    throw new Error(
      `a symbolic link in the way leads outside the directory (to ${real}); nothing was written`,
    );
}

/** Writes one entry through a temp file in its directory, checked against `sha256`. */
async function save(
  entry: AsyncIterable<Buffer>,
  target: string,
  size: number,
  sha256: string | undefined,
  onBytes: (n: number) => void,
): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.cairn-${randomBytes(6).toString('hex')}.part`);
  if (size <= SMALL) {
    // Small files whole, with synchronous writes: a stream per file cost more than the file.
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    onBytes(bytes.length);
    if (sha256 !== undefined && createHash('sha256').update(bytes).digest('hex') !== sha256)
      throw new Error('its bytes did not match their sha256; nothing was written');
    try {
      writeFileSync(tmp, bytes, { flag: 'wx' });
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return;
  }
  const hash = createHash('sha256');
  const meter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(entry, meter, createWriteStream(tmp, { flags: 'wx' }));
    if (sha256 !== undefined && hash.digest('hex') !== sha256)
      throw new Error('its bytes did not match their sha256; nothing was written');
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Why a file could not be written, in words a user can act on. */
function describe(err: unknown, name: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  const top = name.split('/').slice(0, -1).join('/');
  switch (code) {
    case 'ENAMETOOLONG':
      return 'a part of its name is longer than this filesystem allows (255 bytes on most)';
    case 'ENOTDIR':
    case 'EEXIST':
      return `a file is in the way of its folder${top ? ` '${top}'` : ''} (another artifact has that name)`;
    case 'EISDIR':
      return 'a folder of that name is in the way (another artifact is inside it)';
    default:
      return code ? `${code}: ${(err as Error).message}` : (err as Error).message;
  }
}
