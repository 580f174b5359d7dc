import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import tar from 'tar-stream';
import type { BatchEntry } from '../../core/batch-push.js';
import { validateSha256, type Meta } from '../../core/validate.js';
import { CairnError, InvalidInputError, TooLargeError } from '../../lib/errors.js';
import { formatBytes } from '../../lib/size.js';
import { INLINE_BLOB_MAX } from '../../app.js';
import { UPLOAD_BUFFER_BYTES } from '../../lib/memory-budget.js';
import { hashBody } from '../request.js';
import { admitToMemory } from '../upload-admission.js';
import type { Ctx } from '../router.js';
import { metaOf } from './push-route.js';

/** PAX header keys a batch entry may carry (vendor prefix `CAIRN.`). */
const PAX_TYPE = 'CAIRN.type';
const PAX_SHA256 = 'CAIRN.sha256';
const PAX_META = 'CAIRN.meta.';
const PAX_ID = 'CAIRN.id';

/** Content types a batch body may be sent with (curl's --data-binary default included). */
const TAR_TYPES =
  /^(application\/(x-)?tar|application\/x-www-form-urlencoded|application\/octet-stream)\s*(;|$)/i;

/**
 * `POST /v1/sessions/{sid}/batch`: a tar stream of regular files becomes one artifact per file,
 * all committed at once (see pushBatch). Each entry's path is its artifact name (a leading
 * `./` is dropped, directories are skipped); PAX headers `CAIRN.type`, `CAIRN.sha256` and
 * `CAIRN.meta.KEY` give an entry its content type, announced digest and metadata; `meta.KEY`,
 * `ttl` and `derived_from` query parameters apply to every entry. Answers 201
 * `{session, artifacts, batch_sha256}`. With an Idempotency-Key, a retry of the same batch
 * (same target, parameters and bytes) replays the first answer.
 */
export async function pushBatchRoute(c: Ctx): Promise<void> {
  const type = c.req.headers['content-type'];
  if (type !== undefined && !TAR_TYPES.test(type))
    throw new InvalidInputError(
      'invalid_content_type',
      `a batch is a tar stream: send it with Content-Type: application/x-tar (got '${type.slice(0, 100)}')`,
    );
  const input = {
    session: c.params.sid,
    meta: metaOf(c.url.searchParams),
    ttlMs: c.query.duration('ttl'),
    derivedFrom: c.query.all('derived_from'),
    readGlob: c.reads.glob ?? undefined,
  };
  const memory = c.app.uploadMemory;
  // Large entries stream through the blob store one at a time, as a push does; small ones are
  // held in memory until the commit, each reserved as it arrives.
  let held = INLINE_BLOB_MAX + UPLOAD_BUFFER_BYTES;
  admitToMemory(memory, c.res, held, 'batch');
  // An entry's fields (metadata, type) are held until the commit, and a small entry's bytes.
  const hold = (size: number, fields: number) => {
    const bytes = (size <= INLINE_BLOB_MAX ? size : 0) + fields;
    // A batch that could never fit is 413 (split it), not a 503 whose retry fails the same way.
    if ((held += bytes) > memory.limit)
      throw new TooLargeError(
        `this batch's small files and metadata need more memory than --max-upload-memory (${formatBytes(memory.limit)}) allows; split it into smaller batches`,
      );
    admitToMemory(memory, c.res, bytes, 'batch');
  };
  const run = async () => {
    const hash = createHash('sha256');
    c.req.on('data', (chunk: Buffer) => hash.update(chunk));
    // Paused until the tar parser is piped in (inside pushBatch, after its first catalog
    // calls): flowing meanwhile, chunks would reach the hash but never the parser. A catalog
    // answering in microtasks (SQLite) hid this; one across the network (PostgreSQL) did not.
    c.req.pause();
    const records = await c.app.artifacts.pushBatch(input, tarEntries(c.req, hold));
    // The digest covers the whole body, the tar's end blocks after the last entry included.
    c.req.resume();
    await finished(c.req);
    const body = { session: input.session, artifacts: records, batch_sha256: hash.digest('hex') };
    return { status: 201, body: JSON.stringify(body) };
  };
  const key = c.req.headers['idempotency-key'];
  const answer =
    typeof key === 'string' && key.length > 0 ? await idempotent(c, key, run) : await run();
  if (!c.req.complete) c.req.resume();
  c.res.writeHead(answer.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(answer.body),
  });
  c.res.end(answer.body);
}

/** A replay must be the same batch: the same target and parameters, and the same bytes. */
function idempotent(
  c: Ctx,
  key: string,
  run: () => Promise<{ status: number; body: string }>,
): Promise<{ status: number; body: string }> {
  const token = c.principal?.tokenId;
  return c.app.idempotency.run(
    `${token}:${createHash('sha256').update(key).digest('hex')}`,
    {
      request: `POST ${c.req.url ?? ''}`,
      differs: async (prior) => {
        const before = (JSON.parse(prior.body) as { batch_sha256?: string }).batch_sha256;
        const now = await hashBody(c.req, Number.MAX_SAFE_INTEGER);
        return before === now ? null : 'with other bytes';
      },
    },
    run,
  );
}

/**
 * The regular files of a tar stream read from `req`, as batch entries, one at a time (each
 * must be consumed before the next is read); `hold(size, fields)` is called before each is
 * handed on, with its size and the bytes of its name and CAIRN.* PAX records.
 * Directories are skipped (tar-stream applies PAX global headers itself);
 * links, devices and anything else refuse the batch, as does a truncated or malformed tar.
 */
async function* tarEntries(
  req: IncomingMessage,
  hold: (size: number, fields: number) => void,
): AsyncGenerator<BatchEntry> {
  const extract = tar.extract();
  // Piped, not pipeline(): on a refusal the request must stay open for the 400 answer.
  req.pipe(extract as unknown as NodeJS.WritableStream);
  const onClose = () => {
    if (!req.complete) extract.destroy(new Error('the upload was aborted'));
  };
  req.on('close', onClose);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = h.name.replace(/^(\.\/)+/, '');
      if (h.type === 'directory' || name === '' || name === '.') {
        entry.resume();
        continue;
      }
      const shown = name.slice(0, 200);
      if (h.type !== 'file')
        throw new InvalidInputError(
          'unsafe_entry',
          `entry '${shown}': a ${h.type ?? 'entry of unknown type'} in the tar; a batch holds regular files only (directories are skipped)`,
          { entry: shown },
        );
      const pax = (h.pax ?? {}) as Record<string, string>;
      // What the batch keeps of it until the commit (other records are dropped with the header).
      let fields = name.length;
      for (const [k, v] of Object.entries(pax))
        if (k.startsWith('CAIRN.')) fields += k.length + v.length;
      hold(h.size ?? 0, fields);
      yield {
        name,
        ...paxFields(shown, pax),
        source: entryBytes(entry as unknown as AsyncIterable<Buffer>),
      };
    }
  } catch (err) {
    req.unpipe(extract as unknown as NodeJS.WritableStream);
    throw malformed(err);
  } finally {
    req.off('close', onClose);
    extract.destroy();
  }
}

/**
 * An entry's bytes. The tar failing under them (cut short inside the entry, a size it does
 * not hold) fails them with 400 `truncated_tar`, not the parser's bare error, which would be a
 * 500.
 */
function entryBytes(entry: AsyncIterable<Buffer>): Readable {
  return Readable.from(
    (async function* () {
      try {
        yield* entry;
      } catch (err) {
        throw malformed(err);
      }
    })(),
    { objectMode: false },
  );
}

/** An entry's content type, digest and metadata from its PAX header; unknown CAIRN.* keys refuse. */
function paxFields(
  shown: string,
  pax: Record<string, string>,
): Omit<BatchEntry, 'name' | 'source'> {
  const meta: Meta = {};
  const out: Omit<BatchEntry, 'name' | 'source'> = { meta };
  for (const [k, v] of Object.entries(pax)) {
    if (k === PAX_TYPE) out.contentType = v;
    else if (k === PAX_SHA256) out.expectedSha256 = entryField(shown, () => validateSha256(v));
    else if (k.startsWith(PAX_META)) meta[k.slice(PAX_META.length)] = v;
    // What GET …/batch adds to each entry, so its tar pushes back as it is.
    else if (k === PAX_ID) continue;
    else if (k.startsWith('CAIRN.'))
      throw new InvalidInputError(
        'invalid_entry',
        `entry '${shown}': unknown PAX header '${k.slice(0, 100)}' (use CAIRN.type, CAIRN.sha256 or CAIRN.meta.KEY)`,
        { entry: shown },
      );
  }
  return out;
}

function entryField<T>(shown: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CairnError)
      throw new InvalidInputError(err.code, `entry '${shown}': ${err.message}`, { entry: shown });
    throw err;
  }
}

function malformed(err: unknown): unknown {
  if (err instanceof CairnError) return err;
  return new InvalidInputError(
    'truncated_tar',
    `the tar stream is truncated or malformed (${(err as Error)?.message ?? 'unknown error'}); nothing was pushed`,
  );
}
