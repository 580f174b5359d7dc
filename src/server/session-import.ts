import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { App } from '../app.js';
import type { StagedBlob } from '../blobs/blob-store.js';
import {
  BUNDLE_ENTRY,
  MAX_BUNDLE_JSON,
  parseBundle,
  type BundleArtifact,
  type SessionBundle,
} from '../core/session-bundle.js';
import {
  commitImport,
  precheckImport,
  type ImportDeps,
  type ImportResult,
} from '../core/session-import.js';
import {
  CairnError,
  DigestMismatchError,
  InvalidInputError,
  TooLargeError,
} from '../lib/errors.js';

/**
 * Reads a session export tar from `req` (streamed, never buffered whole) and recreates the
 * session: the first entry must be `cairn-export.json`; every other entry must be a regular
 * file at a path the document announces, whose bytes hash to the recorded sha256 and size.
 * Entries with `..`, absolute paths, links, devices or anything unannounced are refused with
 * 400 `unsafe_entry`/`unexpected_entry`; a truncated tar is 400 `truncated_tar`; either way
 * nothing is written (bytes are only staged until everything checked out). Importing the same
 * export again answers `{created: false}` and writes nothing; a different session with the same
 * id is 409. `authorize(sid)` is called with the session id before any bytes are staged.
 */
export async function importSessionTar(
  app: App,
  req: IncomingMessage,
  authorize: (sessionId: string) => void,
  opts: { ttlMs?: number } = {},
): Promise<ImportResult> {
  const deps: ImportDeps = app;
  const extract = tar.extract();
  // Piped, not pipeline(): on a refusal the request must stay open for the 400 answer.
  req.pipe(extract as unknown as NodeJS.WritableStream);
  const onClose = () => {
    if (!req.complete) extract.destroy(new Error('the upload was aborted'));
  };
  req.on('close', onClose);
  const staged: StagedBlob[] = [];
  let bundle: SessionBundle | null = null;
  let existing = null;
  try {
    const expected = new Map<string, BundleArtifact>();
    for await (const entry of extract) {
      const name = entry.header.name;
      checkEntry(name, entry.header.type);
      if (!bundle) {
        if (name !== BUNDLE_ENTRY)
          throw new InvalidInputError(
            'invalid_export',
            `the first tar entry must be ${BUNDLE_ENTRY}, got '${name.slice(0, 100)}'; is this a cairn export?`,
          );
        bundle = parseBundle(await readText(entry, entry.header.size ?? 0));
        authorize(bundle.session.id);
        const big = bundle.artifacts.find((x) => x.size > app.config.maxSize);
        if (big)
          throw new TooLargeError(
            `'${big.name.slice(0, 200)}' is ${big.size} bytes; this server accepts at most ${app.config.maxSize} per artifact (cairn serve --max-size)`,
          );
        existing = await precheckImport(deps, bundle);
        for (const a of bundle.artifacts) expected.set(a.path, a);
        continue;
      }
      const a = expected.get(name);
      if (!a)
        throw new InvalidInputError(
          'unexpected_entry',
          `tar entry '${name.slice(0, 200)}' is not announced in ${BUNDLE_ENTRY} (or appears twice)`,
        );
      expected.delete(name);
      if (existing) {
        // Already here: nothing to store, but a tampered copy is still refused, not "imported".
        await checkEntryHash(entry, a);
        continue;
      }
      staged.push(await stageEntry(app, entry as unknown as Readable, entry.header.size, a));
    }
    if (!bundle) throw new InvalidInputError('invalid_export', 'the tar is empty');
    if (expected.size > 0)
      throw new InvalidInputError(
        'incomplete_export',
        `${expected.size} announced file(s) are missing from the tar, e.g. '${[...expected.keys()][0].slice(0, 200)}'`,
      );
    if (existing)
      return { created: false, session: existing, artifacts: bundle.artifacts.length, bytes: 0 };
    return await commitImport(deps, bundle, staged.splice(0), opts.ttlMs);
  } catch (err) {
    req.unpipe(extract as unknown as NodeJS.WritableStream);
    extract.destroy();
    throw truncated(err);
  } finally {
    req.off('close', onClose);
    await Promise.all(staged.map((s) => s.discard()));
  }
}

/** Refuses unsafe entry names and anything but regular files, before looking further. */
function checkEntry(name: string, type: string | null | undefined): void {
  const shown = name.slice(0, 200);
  if (type !== 'file')
    throw new InvalidInputError(
      'unsafe_entry',
      `tar entry '${shown}' is a ${type ?? 'unknown type'}; an export holds regular files only`,
    );
  if (
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.split('/').some((seg) => seg === '..')
  )
    throw new InvalidInputError(
      'unsafe_entry',
      `tar entry '${shown}' has an absolute or '..' path; refusing the whole import`,
    );
}

async function stageEntry(
  app: App,
  entry: Readable,
  size: number | undefined,
  a: BundleArtifact,
): Promise<StagedBlob> {
  if (size !== a.size)
    throw new DigestMismatchError(
      `'${a.path.slice(0, 200)}' is ${size} bytes in the tar but ${a.size} in ${BUNDLE_ENTRY}`,
    );
  try {
    return await app.blobs.stage(entry, { maxSize: a.size, expectedSha256: a.sha256 });
  } catch (err) {
    if (err instanceof DigestMismatchError)
      throw new DigestMismatchError(
        `the bytes of '${a.path.slice(0, 200)}' do not hash to ${a.sha256} as ${BUNDLE_ENTRY} records`,
      );
    throw err;
  }
}

async function checkEntryHash(entry: AsyncIterable<unknown>, a: BundleArtifact): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of entry) {
    hash.update(c as Buffer);
    size += (c as Buffer).length;
  }
  if (size !== a.size || hash.digest('hex') !== a.sha256)
    throw new DigestMismatchError(
      `the bytes of '${a.path.slice(0, 200)}' do not hash to ${a.sha256} as ${BUNDLE_ENTRY} records`,
    );
}

async function readText(entry: AsyncIterable<unknown>, size: number): Promise<string> {
  if (size > MAX_BUNDLE_JSON)
    throw new InvalidInputError('invalid_export', `${BUNDLE_ENTRY} is larger than 64 MiB`);
  const chunks: Buffer[] = [];
  for await (const c of entry) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function truncated(err: unknown): CairnError {
  if (err instanceof CairnError) return err;
  return new InvalidInputError(
    'truncated_tar',
    `the tar stream is truncated or malformed (${(err as Error)?.message ?? 'unknown error'}); nothing was imported`,
  );
}
