import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { ArtifactRecord } from '../core/types.js';
import type { CairnClient } from './cairn-client.js';
import { readAll } from './send-request.js';
import { segment } from './url-path.js';

/** A local file to send in a batch: where it is, its artifact name, size and sha256. */
export interface BatchFile {
  path: string;
  name: string;
  size: number;
  sha256: string;
  /** The file's bytes when already read (small files): sent as they are, not read again. */
  bytes?: Buffer;
}

/** What applies to every file of a batch. */
export interface BatchUploadOptions {
  meta?: Record<string, string>;
  ttl?: string;
  derivedFrom?: string[];
  /** Content type of every file (else the server looks it up from each name). */
  contentType?: string;
  idempotencyKey?: string;
  /** Called with the number of bytes of file content sent so far in this batch. */
  onBytes?: (sent: number) => void;
}

/**
 * Pushes `files` into `session` as one batch (`POST /v1/sessions/{sid}/batch`): a tar streamed
 * from the files as it is sent, each entry carrying its sha256 so the server verifies it. All
 * files become artifacts at once, or none does. Rejects with CairnApiError as the server
 * answers; a file that changed size since it was listed fails the batch with an error naming
 * it (its `path` set).
 */
export async function uploadBatch(
  client: CairnClient,
  session: string,
  files: BatchFile[],
  opts: BatchUploadOptions = {},
): Promise<(ArtifactRecord & { deduplicated: boolean })[]> {
  const pack = tar.pack();
  let sent = 0;
  const produce = (async () => {
    for (const f of files) {
      const pax: Record<string, string> = { 'CAIRN.sha256': f.sha256 };
      if (opts.contentType) pax['CAIRN.type'] = opts.contentType;
      const header = { name: f.name, size: f.size, pax, mode: 0o644 };
      if (f.bytes) {
        pack.entry(header, f.bytes);
        opts.onBytes?.((sent += f.size));
        continue;
      }
      const entry = pack.entry(header);
      let read = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          if ((read += chunk.length) > f.size) return done(changed(f));
          sent += chunk.length;
          opts.onBytes?.(sent);
          done(null, chunk);
        },
        flush: (done) => done(read === f.size ? null : changed(f)),
      });
      await pipeline(createReadStream(f.path), count, entry);
    }
    pack.finalize();
  })();
  // Whatever fails first: reading the files ends the request too, and an early answer stops
  // the reading.
  produce.catch((err: unknown) => pack.destroy(err as Error));
  const headers: Record<string, string> = { 'Content-Type': 'application/x-tar' };
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  try {
    const res = await client.request(
      'POST',
      `/v1/sessions/${segment(session, 'session id')}/batch?${query(opts)}`,
      {
        body: Readable.from(pack),
        headers,
      },
    );
    await produce;
    const out = JSON.parse((await readAll(res)).toString('utf8')) as {
      artifacts: (ArtifactRecord & { deduplicated: boolean })[];
    };
    return out.artifacts;
  } catch (err) {
    pack.destroy();
    // A file that could not be read is the cause to report, not the request it broke off.
    const readErr = await produce.then(
      () => null,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    throw readErr?.path ? readErr : err;
  }
}

/** A file no longer the size it was listed with; its `path` makes it the cause reported. */
function changed(f: BatchFile): Error {
  return Object.assign(
    new Error(
      `'${f.path}' changed while it was pushed (it was ${f.size} bytes); nothing of its batch was stored, push again`,
    ),
    { path: f.path },
  );
}

function query(opts: BatchUploadOptions): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.meta ?? {})) p.append(`meta.${k}`, v);
  if (opts.ttl) p.set('ttl', opts.ttl);
  for (const id of opts.derivedFrom ?? []) p.append('derived_from', id);
  return p.toString();
}
