import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { CairnError } from '../lib/errors.js';
import {
  BUNDLE_ENTRY,
  MAX_BUNDLE_JSON,
  checkBundleSeal,
  parseBundle,
  type BundleArtifact,
  type SessionBundle,
} from './session-bundle.js';

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
  const extract = tar.extract();
  source.on('error', (err) => extract.destroy(err));
  source.pipe(extract as unknown as NodeJS.WritableStream);
  let bundle: SessionBundle | null = null;
  const expected = new Map<string, BundleArtifact>();
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      if (!bundle) {
        if (name !== BUNDLE_ENTRY || (entry.header.size ?? 0) > MAX_BUNDLE_JSON) {
          r.problems.push({ what: 'format', message: `the first entry is not ${BUNDLE_ENTRY}` });
          break;
        }
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        bundle = parseBundle(Buffer.concat(chunks).toString('utf8'));
        checkHead(r, bundle, opts.trustedKeyIds);
        for (const a of bundle.artifacts) expected.set(a.path, a);
        continue;
      }
      const a = expected.get(name);
      const hash = createHash('sha256');
      let size = 0;
      for await (const c of entry) {
        hash.update(c as Buffer);
        size += (c as Buffer).length;
      }
      if (!a || entry.header.type !== 'file') {
        r.problems.push({
          what: 'unexpected',
          path: name,
          message: `'${name}' (${entry.header.type}) is not a file the export announces`,
        });
        continue;
      }
      expected.delete(name);
      r.files++;
      r.bytes += size;
      const got = hash.digest('hex');
      if (got !== a.sha256 || size !== a.size)
        r.problems.push({
          what: 'file',
          path: name,
          message: `'${name}' has sha256 ${got} (${size} B) but its record says ${a.sha256} (${a.size} B)`,
        });
    }
  } catch (err) {
    r.problems.push({
      what: 'format',
      message:
        err instanceof CairnError
          ? err.message
          : `the tar is truncated or malformed (${(err as Error).message})`,
    });
  }
  if (!bundle && r.problems.length === 0)
    r.problems.push({ what: 'format', message: 'the tar is empty' });
  for (const path of expected.keys())
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
