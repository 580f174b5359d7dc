import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BatchFile } from '../client/batch-upload.js';
import { CairnApiError, hashFile, type CairnClient } from '../client/cairn-client.js';
import type { ArtifactRecord } from '../core/types.js';
import { CliError, EXIT, exitCodeOf } from './context.js';
import { HashCaches } from './hash-cache.js';
import { isStdin, type PlanItem, type PlannedFile } from './push-plan.js';
import { transferProgress } from './transfer-progress.js';
import { progressBar } from './util.js';

/** What a push sends besides the bytes. */
export interface PushOpts {
  meta: Record<string, string>;
  ttl?: string;
  contentType?: string;
  derivedFrom: string[];
}

/** How a push decides what to send. */
export interface PushCheck {
  /**
   * With `--sync`: the latest sha256 of each name in the session ({@link latestShas}); files
   * whose name and sha256 match are skipped.
   */
  latest?: Promise<Map<string, string>>;
  /** With `latest`: hash every file, trusting no remembered hash (see {@link HashCaches}). */
  checksum: boolean;
  /** The hash caches of the directories pushed, saved once the push ends. */
  caches: HashCaches;
  /** Files already found unchanged (by {@link syncSkipper} during the walk), for the note. */
  skipped?: number;
}

type Result = ArtifactRecord & { deduplicated: boolean };

/** Batches uploading at once. */
const IN_FLIGHT = 2;
/** Files up to this size are read whole, once, for both the hash and the batch. */
const SMALL_FILE = 256 * 1024;
/** Files found in directories up to this size go in batches; larger ones stream on their own. */
export const BATCH_FILE_MAX = 8 * 1024 * 1024;
/** A batch closes at this many files… */
export const BATCH_MAX_FILES = 500;
/** …or this many bytes. */
export const BATCH_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Pushes what {@link planPush} listed, in its order: files found in directories in batches
 * (one request and one commit per batch, bounded by count and bytes), stdin, files named on
 * the command line and large files one by one (hashed first, not re-sent when the server holds
 * the bytes). With `check.latest`, a file whose name and sha256 match the latest version there
 * is not pushed (a note on stderr counts them); a file found in a directory whose size, mtime,
 * inode and device are those it had when last hashed is then not read at all, unless
 * `checksum` (the hashes are remembered for every directory pushed, see {@link HashCaches}).
 * Progress goes to stderr on a terminal.
 */
export async function pushPlan(
  client: CairnClient,
  session: string,
  plan: PlanItem[],
  opts: PushOpts,
  check: PushCheck,
): Promise<Result[]> {
  try {
    return await pushAll(client, session, plan, opts, check);
  } finally {
    check.caches.save();
  }
}

/**
 * For {@link planPush}'s `unchanged` (`push --sync` without `--checksum`), given what is
 * `current` in the session: true for a file whose stamp is the one it had when last hashed and
 * whose remembered sha256 is that of the latest version of its name. Counts them in `skipped`;
 * notes the looked-up sha256 on every file asked about (the push does not look it up again).
 */
export function syncSkipper(
  current: Map<string, string>,
  caches: HashCaches,
): { unchanged: (f: PlannedFile) => boolean; skipped: () => number } {
  let skipped = 0;
  const unchanged = ({ name, found }: PlannedFile): boolean => {
    if (!found) return false;
    const known = caches.of(found.root).lookup(found.rel, found);
    found.known = known ?? null;
    if (known === undefined || current.get(name) !== known) return false;
    skipped++;
    return true;
  };
  return { unchanged, skipped: () => skipped };
}

async function pushAll(
  client: CairnClient,
  session: string,
  plan: PlanItem[],
  opts: PushOpts,
  check: PushCheck,
): Promise<Result[]> {
  const sync = check.latest !== undefined;
  const latest = (await check.latest) ?? new Map<string, string>();
  const files = plan.filter((p): p is PlannedFile => !isStdin(p));
  // Directories get one line for the whole transfer; files named alone, a bar each (below).
  const batched = files.filter(isBatched);
  const progress = transferProgress(
    'push',
    batched.length,
    batched.reduce((n, f) => n + f.size, 0),
  );
  // Results in plan order; up to IN_FLIGHT batches upload at once (this process hashes and
  // packs the next while the server commits the last).
  const parts: Promise<Result[]>[] = [];
  const pending: Promise<unknown>[] = [];
  let batch: BatchFile[] = [];
  let batchBytes = 0;
  let skipped = check.skipped ?? 0;
  let failed = false;
  const flush = async () => {
    if (batch.length === 0) return;
    const sending = batch;
    batch = [];
    batchBytes = 0;
    let counted = 0;
    // tar-stream and the batch code load only when there is something to send.
    const { uploadBatch } = await import('../client/batch-upload.js');
    const part = uploadBatch(client, session, sending, {
      ...opts,
      onBytes: (sent) => {
        progress.bytes(sent - counted);
        counted = sent;
      },
    }).then((recs) => {
      progress.filesDone(sending.length);
      return recs;
    });
    parts.push(part);
    // Settled either way here; a failure surfaces from `parts` below.
    pending.push(part.catch(() => (failed = true)));
    if (pending.length >= IN_FLIGHT) await pending.shift();
  };
  const one = async (result: Promise<Result>) => {
    await flush();
    await Promise.all(pending.splice(0));
    parts.push(result.then((r) => [r]));
    await parts.at(-1);
  };
  for (const item of plan) {
    // A refused batch ends the push: its error is thrown below.
    if (failed) break;
    if (isStdin(item)) {
      await one(client.push(session, item.name, process.stdin, opts));
      continue;
    }
    const { found } = item;
    const cache = found && check.caches.of(found.root);
    const known =
      found?.known !== undefined
        ? (found.known ?? undefined)
        : cache && sync && !check.checksum
          ? cache.lookup(found.rel, found)
          : undefined;
    let sha256: string;
    let bytes: Buffer | undefined;
    // Unchanged since it was last hashed and the same as the latest version: not even read.
    if (known !== undefined && latest.get(item.name) === known) sha256 = known;
    else {
      // Small files are read once, whole (a stream per file cost more than the file: ~4 ms each).
      bytes = item.size <= SMALL_FILE ? readOrSay(item.path) : undefined;
      sha256 = bytes
        ? createHash('sha256').update(bytes).digest('hex')
        : await hashLarge(item.path, item.name, item.size);
      if (cache && (bytes?.length ?? item.size) === found.size)
        cache.record(found.rel, found, sha256);
    }
    if (latest.get(item.name) === sha256) {
      skipped++;
      if (isBatched(item)) {
        progress.filesDone(1);
        progress.bytes(item.size);
      }
      continue;
    }
    if (isBatched(item)) {
      batch.push({
        path: item.path,
        name: item.name,
        size: bytes?.length ?? item.size,
        sha256,
        bytes,
      });
      batchBytes += item.size;
      if (batch.length >= BATCH_MAX_FILES || batchBytes >= BATCH_MAX_BYTES) await flush();
      continue;
    }
    const bar =
      item.size > BATCH_FILE_MAX && process.stderr.isTTY
        ? progressBar(item.name, item.size)
        : undefined;
    await one(client.pushFile(session, item.name, item.path, { ...opts, sha256, onProgress: bar }));
    bar?.done();
  }
  await flush();
  const results = await allOrSay(parts);
  if (batched.length > 0) progress.end();
  if (skipped > 0)
    process.stderr.write(
      `cairn: ${skipped} file(s) unchanged since the latest version, not pushed (--sync)\n`,
    );
  return results;
}

/**
 * The sha256 of the latest version of each name in `session` (none if it does not exist), from
 * the compact `GET /v1/sessions/{sid}/latest`; from the whole session listing when the server
 * predates it.
 */
export async function latestShas(
  client: CairnClient,
  session: string,
): Promise<Map<string, string>> {
  try {
    return await client.latest(session);
  } catch (err) {
    if (!(err instanceof CairnApiError) || err.status !== 404) throw err;
    if (!err.message.startsWith('no route')) return new Map();
  }
  try {
    const s = await client.session(session);
    // Sorted by name then version: the last of each name is its latest.
    return new Map(s.artifacts.map((a) => [a.name, a.sha256]));
  } catch (err) {
    if (err instanceof CairnApiError && err.status === 404) return new Map();
    throw err;
  }
}

/** Hashes a file too large to read whole, showing the hashing on a terminal when it is big. */
async function hashLarge(path: string, name: string, size: number): Promise<string> {
  const bar =
    size > BATCH_FILE_MAX && process.stderr.isTTY
      ? progressBar(`hashing ${name}`, size)
      : undefined;
  try {
    return await hashFile(path, bar);
  } catch (err) {
    throw cannotRead(path, err);
  } finally {
    bar?.done();
  }
}

/** A whole small file's bytes; a file that cannot be read is a CliError naming it. */
function readOrSay(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw cannotRead(path, err);
  }
}

function cannotRead(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return err as Error;
  const why = code === 'EACCES' ? 'permission denied' : code === 'ENOENT' ? 'it is gone' : code;
  return new CliError(`cannot read '${path}': ${why}`, EXIT.error);
}

/** Found in a directory and small enough: sent in a batch. */
function isBatched(f: PlannedFile): boolean {
  return f.inDirectory && f.size <= BATCH_FILE_MAX;
}

/**
 * The records of every part, in order; if a part failed, its error, saying how many files
 * earlier parts had already pushed (each batch is all or none, so a failed push DIR is not).
 */
async function allOrSay(parts: Promise<Result[]>[]): Promise<Result[]> {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((p) => p.status === 'rejected');
  if (!failed) return settled.flatMap((p) => (p.status === 'fulfilled' ? p.value : []));
  const err: unknown = failed.reason;
  const pushed = settled.reduce((n, p) => n + (p.status === 'fulfilled' ? p.value.length : 0), 0);
  if (pushed === 0) throw err;
  const message = err instanceof Error ? err.message : String(err);
  throw new CliError(
    `${message}\n${pushed} file(s) of other batches were pushed and stay; that batch was not (each batch is all or none): push again with --sync to send the rest`,
    exitCodeOf(err),
  );
}
