import type { Readable } from 'node:stream';
import { CairnError } from '../lib/errors.js';
import { hashStream } from '../lib/hashing-stream.js';
import { ExportTarReader } from './export-tar-reader.js';
import { checkBundleSeal, type SessionBundle } from './session-bundle.js';

/** One thing that does not match. */
export interface VerifyProblem {
  what: 'format' | 'digest' | 'signature' | 'key' | 'file' | 'missing' | 'unexpected';
  /** Tar path concerned, if any. */
  path?: string;
  message: string;
}

/** The outcome of verifying an export. */
export interface VerifyReport {
  ok: boolean;
  session: string | null;
  sealed: boolean;
  /** Digest recomputed from the manifest. */
  digest: string | null;
  /** Id of the key the signature was checked with. */
  key_id: string | null;
  files: number;
  bytes: number;
  problems: VerifyProblem[];
}

/**
 * Verifies a session export stream completely: the document's shape and manifest, the digest
 * recomputed from the manifest, the Ed25519 signature with the bundle's key (and, given
 * `trustedKeyIds`, that this key is one of them), and every byte of every file rehashed against
 * its record. Collects every mismatch instead of stopping at the first; never throws for bad
 * content (a malformed or truncated tar is a `format` problem).
 */
export async function verifyExport(
  source: Readable,
  opts: { trustedKeyIds?: string[] } = {},
): Promise<VerifyReport> {
  const r: VerifyReport = {
    ok: false,
    session: null,
    sealed: false,
    digest: null,
    key_id: null,
    files: 0,
    bytes: 0,
    problems: [],
  };
  const reader = new ExportTarReader(source);
  let bundle: SessionBundle | null = null;
  try {
    bundle = await reader.bundle();
    checkHead(r, bundle, opts.trustedKeyIds);
    for await (const entry of reader.entries()) {
      const got = await hashStream(entry.body);
      const a = entry.announced;
      if (!a || entry.type !== 'file') {
        r.problems.push({
          what: 'unexpected',
          path: entry.name,
          message: `'${entry.name}' (${entry.type}) is not a file the export announces`,
        });
        continue;
      }
      r.files++;
      r.bytes += got.size;
      if (got.sha256 !== a.sha256 || got.size !== a.size)
        r.problems.push({
          what: 'file',
          path: entry.name,
          message: `'${entry.name}' has sha256 ${got.sha256} (${got.size} B) but its record says ${a.sha256} (${a.size} B)`,
        });
    }
  } catch (err) {
    reader.destroy();
    r.problems.push({
      what: 'format',
      message:
        err instanceof CairnError
          ? err.message
          : `the tar is truncated or malformed (${(err as Error).message})`,
    });
  }
  for (const path of bundle ? reader.missing() : [])
    r.problems.push({ what: 'missing', path, message: `'${path}' is announced but missing` });
  r.ok = r.problems.length === 0;
  return r;
}

function checkHead(r: VerifyReport, b: SessionBundle, trusted: string[] | undefined): void {
  r.session = b.session.id;
  r.sealed = b.session.sealed;
  r.key_id = b.key?.id ?? null;
  const seal = checkBundleSeal(b);
  r.digest = seal.digest;
  r.problems.push(...seal.problems);
  if (!b.session.sealed)
    r.problems.push({
      what: 'key',
      message: `session '${b.session.id}' is not sealed: there is no signature to check`,
    });
  else if (trusted && b.key && !trusted.includes(b.key.id))
    r.problems.push({
      what: 'key',
      message: `signed by key ${b.key.id}, which is not a trusted key (${trusted.join(', ')})`,
    });
}
