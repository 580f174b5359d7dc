import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InvalidInputError } from '../lib/errors.js';
import {
  BUNDLE_ENTRY,
  MAX_BUNDLE_JSON,
  parseBundle,
  type BundleArtifact,
  type SessionBundle,
} from './session-bundle.js';

/** An entry as tar-stream's extractor yields it (a streamx Readable, used as Node's). */
type TarSource = Readable & { header: tar.Header };

/** One entry of an export tar after `cairn-export.json`. */
export interface ExportTarEntry {
  name: string;
  /** tar-stream's type: 'file', 'symlink', 'directory', ... */
  type: string;
  /** Size in the tar header. */
  size: number | undefined;
  /** The artifact the document announces at this path, the first time it appears; else null. */
  announced: BundleArtifact | null;
  /** The entry's bytes; read or drain it before asking for the next entry. */
  body: Readable;
}

/** Options for {@link ExportTarReader}. */
export interface ExportTarReaderOptions {
  /** Called with every entry's name and type, the first one included, before it is read. */
  checkEntry?: (name: string, type: string) => void;
  /** Aborting it fails the read (e.g. an upload cut off by its client). */
  signal?: AbortSignal;
  /**
   * Called before the document is read with what reading and parsing it may cost in memory
   * (see DOCUMENT_COST); what it throws refuses the tar.
   */
  reserve?: (bytes: number) => void;
}

/**
 * Memory a document costs per byte while it is read, parsed and checked: a 60 MiB document of
 * 58,000 records raised the server's RSS by 300-350 MiB (its bytes, its text, the parsed
 * objects and their validated copies), so reading one reserves six times its size.
 */
const DOCUMENT_COST = 6;

/**
 * Reads a session export tar (see ExportService) as it streams, never buffering it whole: first
 * {@link bundle} (the `cairn-export.json` document, which must come first), then
 * {@link entries}, then {@link missing}. Shared by `POST /v1/import` and `cairn verify`, which
 * judge the entries each their own way. A malformed or truncated tar makes the iteration throw
 * tar-stream's error; an abort, the signal's.
 */
export class ExportTarReader {
  private readonly extract = tar.extract();
  private readonly it: AsyncIterator<TarSource>;
  private readonly expected = new Map<string, BundleArtifact>();

  constructor(
    private readonly source: Readable,
    private readonly opts: ExportTarReaderOptions = {},
  ) {
    source.on('error', (err) => this.extract.destroy(err));
    // Piped, not pipeline(): on a refusal an HTTP request must stay open for the 400 answer.
    source.pipe(this.extract as unknown as NodeJS.WritableStream);
    opts.signal?.addEventListener('abort', () =>
      this.extract.destroy(new Error('the upload was aborted')),
    );
    this.it = this.extract[Symbol.asyncIterator]() as unknown as AsyncIterator<TarSource>;
  }

  /**
   * Reads and parses `cairn-export.json`. Throws InvalidInputError(`invalid_export`) if the tar
   * is empty, starts with anything else, or the document is larger than 64 MiB or malformed.
   */
  async bundle(): Promise<SessionBundle> {
    const next = await this.it.next();
    if (next.done) throw new InvalidInputError('invalid_export', 'the tar is empty');
    const entry = next.value;
    const name = entry.header.name;
    this.opts.checkEntry?.(name, entry.header.type ?? 'unknown type');
    if (name !== BUNDLE_ENTRY)
      throw new InvalidInputError(
        'invalid_export',
        `the first tar entry must be ${BUNDLE_ENTRY}, got '${name.slice(0, 100)}'; is this a cairn export?`,
      );
    const size = entry.header.size ?? 0;
    if (size > MAX_BUNDLE_JSON)
      throw new InvalidInputError('invalid_export', `${BUNDLE_ENTRY} is larger than 64 MiB`);
    this.opts.reserve?.(size * DOCUMENT_COST);
    const bundle = parseBundle(await readText(entry as AsyncIterable<Buffer>, size));
    for (const a of bundle.artifacts) this.expected.set(a.path, a);
    return bundle;
  }

  /** The entries after the document, each with the artifact announced at its path. */
  async *entries(): AsyncIterable<ExportTarEntry> {
    for (let next = await this.it.next(); !next.done; next = await this.it.next()) {
      const entry = next.value;
      const name = entry.header.name;
      const type = entry.header.type ?? 'unknown type';
      this.opts.checkEntry?.(name, type);
      const announced = this.expected.get(name) ?? null;
      this.expected.delete(name);
      yield { name, type, size: entry.header.size, announced, body: entry };
    }
  }

  /** Announced paths not (yet) seen among the entries. */
  missing(): string[] {
    return [...this.expected.keys()];
  }

  /** Stops reading: unpipes the source and destroys the parser. */
  destroy(): void {
    this.source.unpipe(this.extract as unknown as NodeJS.WritableStream);
    this.extract.destroy();
  }
}

/** The entry's `size` bytes as text, read into one buffer (no list of chunks to concatenate). */
async function readText(entry: AsyncIterable<Buffer>, size: number): Promise<string> {
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for await (const chunk of entry) {
    if (at + chunk.length > size)
      throw new InvalidInputError(
        'invalid_export',
        `${BUNDLE_ENTRY} is longer than its tar header says`,
      );
    at += chunk.copy(buf, at);
  }
  return buf.toString('utf8', 0, at);
}
