import { DUMP_KINDS } from '../lib/dump-kinds.js';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { DumpKind, DumpRow } from '../catalog/dump-catalog.js';
import {
  BACKUP_FILES,
  LOGICAL_ENTRY_RE,
  LOGICAL_FORMAT,
  type LogicalManifest,
} from '../lib/backup-format.js';
import { CairnError, InvalidInputError } from '../lib/errors.js';
import type { DumpItem } from './store-dump.js';
import { addTarEntry } from './tar-entries.js';

/**
 * Writes `items` as a logical backup tar into `out`, streaming: a blob goes straight from its
 * body into the tar, a page of rows is one `catalog/<kind>/<n>.jsonl` entry (one page in
 * memory at a time). Rejects (after destroying `out`) if anything fails; `out` then ends
 * without `end.json`, which every reader takes as incomplete.
 */
export async function writeBackupTar(items: AsyncIterable<DumpItem>, out: Writable): Promise<void> {
  const pack = tar.pack();
  const piping = pipeline(pack, out);
  // Handled at once: `out` may fail (a client gone) while an entry is being awaited.
  piping.catch(() => undefined);
  const pages = new Map<DumpKind, number>();
  let current: DumpItem | null = null;
  try {
    for await (const item of items) {
      current = item;
      switch (item.type) {
        case 'manifest':
        case 'end': {
          const json = Buffer.from(
            `${JSON.stringify(item.type === 'end' ? item.end : item.manifest, null, 2)}\n`,
          );
          await addTarEntry(pack, `${item.type}.json`, json.length, json);
          break;
        }
        case 'file':
          await addTarEntry(pack, item.name, item.data.length, item.data, 0o600);
          break;
        case 'blob':
          await addTarEntry(pack, `blobs/${item.sha256}`, item.size, item.body);
          break;
        case 'rows': {
          const n = (pages.get(item.kind) ?? 0) + 1;
          pages.set(item.kind, n);
          const text = Buffer.from(item.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
          const name = `catalog/${item.kind}/${String(n).padStart(6, '0')}.jsonl`;
          await addTarEntry(pack, name, text.length, text, 0o600);
          break;
        }
      }
    }
    pack.finalize();
    await piping;
  } catch (err) {
    if (current?.type === 'blob') current.body.destroy();
    pack.destroy(err as Error);
    await piping.catch(() => undefined);
    throw err;
  }
}

const bad = (what: string) =>
  new InvalidInputError('invalid_backup', `${what}; this is not a complete Cairn backup`);

/**
 * Reads a logical backup tar as {@link DumpItem}s, checking its layout as it goes: the
 * manifest first, only known entry names (no path from the stream is ever used as one),
 * kinds in order, `end.json` last and equal to the manifest. Blob bodies are not hashed here:
 * the blob store verifies each against its name when staging it. Throws
 * InvalidInputError(`invalid_backup`) for anything else, including a stream that ends early.
 */
export async function* readBackupTar(input: Readable): AsyncGenerator<DumpItem> {
  const extract = tar.extract();
  const done = pipeline(input, extract);
  done.catch(() => undefined); // surfaced through the iteration below or the final await
  try {
    yield* readEntries(extract);
    await done;
  } catch (err) {
    if (err instanceof CairnError) throw err;
    throw bad(`the backup stream broke off or is not a tar (${(err as Error).message})`);
  }
}

async function* readEntries(extract: tar.Extract): AsyncGenerator<DumpItem> {
  let manifest: LogicalManifest | null = null;
  let ended = false;
  let kindAt = 0;
  for await (const raw of extract) {
    const entry = raw as unknown as Readable & { header: tar.Header };
    const name = entry.header.name;
    const m = LOGICAL_ENTRY_RE.exec(name);
    if (!m || entry.header.type !== 'file' || ended)
      throw bad(`the backup holds an unexpected entry '${name.slice(0, 100)}'`);
    if (!manifest && name !== 'manifest.json')
      throw bad('the backup does not start with manifest.json');
    if (name === 'manifest.json' || name === 'end.json') {
      const json = (await readJson(entry, 1 << 20)) as LogicalManifest;
      if (name === 'manifest.json') {
        if (manifest) throw bad('the backup holds two manifests');
        const format = String((json as { format?: unknown } | null)?.format);
        if (format !== LOGICAL_FORMAT)
          throw bad(`the backup's format is '${format.slice(0, 40)}', not ${LOGICAL_FORMAT}`);
        manifest = json;
        yield { type: 'manifest', manifest };
      } else {
        if (JSON.stringify(json) !== JSON.stringify(manifest))
          throw bad('the backup ends with an end.json that differs from its manifest');
        ended = true;
        yield { type: 'end', end: json };
      }
    } else if ((BACKUP_FILES as readonly string[]).includes(name)) {
      yield { type: 'file', name, data: await readBytes(entry, 1 << 20) };
    } else if (m[1] !== undefined) {
      yield { type: 'blob', sha256: m[1], size: entry.header.size ?? 0, body: entry };
      entry.resume(); // whatever the consumer left unread
    } else {
      const kind = m[2] as DumpKind;
      const at = DUMP_KINDS.indexOf(kind);
      if (at < kindAt)
        throw bad(`the backup's catalog kind '${kind.slice(0, 40)}' is unknown or out of order`);
      kindAt = at;
      const text = (await readBytes(entry, 256 << 20)).toString('utf8');
      const rows = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => parseRow(l, name));
      yield { type: 'rows', kind, rows };
    }
  }
  if (!ended) throw bad('the backup ends early (no end.json)');
}

async function readBytes(entry: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of entry) {
    n += (c as Buffer).length;
    if (n > max) throw bad('a backup entry is larger than its kind allows');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(entry: Readable, max: number): Promise<unknown> {
  try {
    return JSON.parse((await readBytes(entry, max)).toString('utf8')) as unknown;
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw bad('a JSON entry of the backup does not parse');
  }
}

function parseRow(line: string, entry: string): DumpRow {
  try {
    return JSON.parse(line) as DumpRow;
  } catch {
    throw bad(`a line of ${entry} does not parse`);
  }
}
