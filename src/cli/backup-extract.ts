import { createWriteStream, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BACKUP_ENTRY_RE, type BackupSummary } from '../lib/backup-format.js';
import { CliError } from './context.js';
import { HashingStream } from '../lib/hashing-stream.js';

/**
 * Extracts a backup tar (see writeBackupTar) into the empty directory `dir`: refuses any entry
 * name outside the backup's fixed layout (no path from the stream reaches the filesystem
 * unchecked), verifies each blob's sha256 while writing, fsyncs every file, and fails unless
 * the closing `backup.json` arrived and its counts match what was written.
 */
export async function extractBackup(source: Readable, dir: string): Promise<BackupSummary> {
  const extract = tar.extract();
  let summary: BackupSummary | null = null;
  let blobs = 0;
  let bytes = 0;
  const done = pipeline(source, extract);
  for await (const entry of extract) {
    const name = entry.header.name;
    const m = BACKUP_ENTRY_RE.exec(name);
    if (!m || entry.header.type !== 'file')
      throw new CliError(`the backup stream holds an unexpected entry '${name.slice(0, 100)}'`);
    if (name === 'backup.json') {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      summary = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BackupSummary;
      continue;
    }
    const path = join(dir, name);
    await fsp.mkdir(dirname(path), { recursive: true });
    const meter = new HashingStream();
    const part = `${path}.part`;
    const mode = name.startsWith('blobs/') ? 0o644 : 0o600;
    await pipeline(entry, meter, createWriteStream(part, { mode }));
    const fh = await fsp.open(part, 'r');
    await fh.sync();
    await fh.close();
    if (m[4] !== undefined) {
      const got = meter.hashed();
      if (got.sha256 !== m[4])
        throw new CliError(`blob ${m[4]} arrived corrupted (sha256 ${got.sha256})`);
      blobs++;
      bytes += got.size;
    }
    await fsp.rename(part, path);
  }
  await done;
  const s = summary as BackupSummary | null;
  if (!s || s.format !== 'cairn-backup-1')
    throw new CliError('the backup stream ended early (no backup.json); the copy is incomplete');
  if (s.blobs !== blobs || s.bytes !== bytes)
    throw new CliError(
      `the backup announced ${s.blobs} blob(s)/${s.bytes} B but ${blobs}/${bytes} B arrived`,
    );
  return s;
}
