import type { Readable } from 'node:stream';
import type { StagedBlob } from '../blobs/blob-store.js';
import {
  CairnError,
  DigestMismatchError,
  InvalidInputError,
  TooLargeError,
} from '../lib/errors.js';
import { hashStream } from '../lib/hashing-stream.js';
import { ExportTarReader, type ExportTarEntry } from './export-tar-reader.js';
import { BUNDLE_ENTRY, type BundleArtifact } from './session-bundle.js';
import {
  commitImport,
  precheckImport,
  type ImportDeps,
  type ImportResult,
} from './session-import.js';
import type { SessionRecord } from './types.js';

/** What {@link ImportService} needs: an import's dependencies and the largest artifact. */
export interface ImportServiceOptions extends ImportDeps {
  /** Largest artifact accepted, in bytes (`cairn serve --max-size`). */
  maxSize: number;
}

/** Options for {@link ImportService.importTar}. */
export interface ImportTarOptions {
  /** Lifetime of the imported session here; default: the one it was exported with. */
  ttlMs?: number;
  /** Aborting it (the upload was cut off) fails the import; nothing is written. */
  signal?: AbortSignal;
  /** Called before the document is read with what it may cost in memory; throws to refuse. */
  reserve?: (bytes: number) => void;
}

/** Recreating sessions from export tars (see ExportService). */
export class ImportService {
  constructor(private readonly o: ImportServiceOptions) {}

  /**
   * Reads a session export tar from `source` (streamed, never buffered whole) and recreates the
   * session: the first entry must be `cairn-export.json`; every other entry must be a regular
   * file at a path the document announces, whose bytes hash to the recorded sha256 and size.
   * Entries with `..`, absolute paths, links, devices or anything unannounced are refused with
   * InvalidInputError `unsafe_entry`/`unexpected_entry`; a truncated tar is `truncated_tar`;
   * either way nothing is written (bytes are only staged until everything checked out).
   * Importing the same export again answers `{created: false}` and writes nothing; a different
   * session with the same id is ConflictError. `authorize(sid)` is called with the session id
   * before any bytes are staged; what it throws ends the import.
   */
  async importTar(
    source: Readable,
    authorize: (sessionId: string) => void,
    opts: ImportTarOptions = {},
  ): Promise<ImportResult> {
    const reader = new ExportTarReader(source, {
      checkEntry,
      signal: opts.signal,
      reserve: opts.reserve,
    });
    const staged: StagedBlob[] = [];
    try {
      const bundle = await reader.bundle();
      authorize(bundle.session.id);
      const big = bundle.artifacts.find((x) => x.size > this.o.maxSize);
      if (big)
        throw new TooLargeError(
          `'${big.name.slice(0, 200)}' is ${big.size} bytes; this server accepts at most ${this.o.maxSize} per artifact (cairn serve --max-size)`,
        );
      const existing: SessionRecord | null = await precheckImport(this.o, bundle);
      for await (const entry of reader.entries()) {
        const a = entry.announced;
        if (!a)
          throw new InvalidInputError(
            'unexpected_entry',
            `tar entry '${entry.name.slice(0, 200)}' is not announced in ${BUNDLE_ENTRY} (or appears twice)`,
          );
        // Already here: nothing to store, but a tampered copy is still refused, not "imported".
        if (existing) await checkEntryHash(entry, a);
        else staged.push(await this.stageEntry(entry, a));
      }
      const missing = reader.missing();
      if (missing.length > 0)
        throw new InvalidInputError(
          'incomplete_export',
          `${missing.length} announced file(s) are missing from the tar, e.g. '${missing[0].slice(0, 200)}'`,
        );
      if (existing)
        return { created: false, session: existing, artifacts: bundle.artifacts.length, bytes: 0 };
      return await commitImport(this.o, bundle, staged.splice(0), opts.ttlMs);
    } catch (err) {
      reader.destroy();
      throw truncated(err);
    } finally {
      await Promise.all(staged.map((s) => s.discard()));
    }
  }

  private async stageEntry(entry: ExportTarEntry, a: BundleArtifact): Promise<StagedBlob> {
    if (entry.size !== a.size)
      throw new DigestMismatchError(
        `'${a.path.slice(0, 200)}' is ${entry.size} bytes in the tar but ${a.size} in ${BUNDLE_ENTRY}`,
      );
    try {
      return await this.o.blobs.stage(entry.body, { maxSize: a.size, expectedSha256: a.sha256 });
    } catch (err) {
      if (err instanceof DigestMismatchError) throw notHashing(a);
      throw err;
    }
  }
}

/** Refuses unsafe entry names and anything but regular files, before looking further. */
function checkEntry(name: string, type: string): void {
  const shown = name.slice(0, 200);
  if (type !== 'file')
    throw new InvalidInputError(
      'unsafe_entry',
      `tar entry '${shown}' is a ${type}; an export holds regular files only`,
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

async function checkEntryHash(entry: ExportTarEntry, a: BundleArtifact): Promise<void> {
  const got = await hashStream(entry.body);
  if (got.size !== a.size || got.sha256 !== a.sha256) throw notHashing(a);
}

function notHashing(a: BundleArtifact): DigestMismatchError {
  return new DigestMismatchError(
    `the bytes of '${a.path.slice(0, 200)}' do not hash to ${a.sha256} as ${BUNDLE_ENTRY} records`,
  );
}

function truncated(err: unknown): CairnError {
  if (err instanceof CairnError) return err;
  return new InvalidInputError(
    'truncated_tar',
    `the tar stream is truncated or malformed (${(err as Error)?.message ?? 'unknown error'}); nothing was imported`,
  );
}
