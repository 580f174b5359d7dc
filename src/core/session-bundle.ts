import { z } from 'zod';
import { canonicalJson } from '../lib/canonical-json.js';
import { InvalidInputError } from '../lib/errors.js';
import { buildManifest, manifestDigest, type Manifest } from './manifest.js';
import { sealKeyId, verifySeal, type PublicKeyInfo } from './signer.js';
import type { ArtifactRecord, SessionRecord } from './types.js';
import {
  HEADER_VALUE,
  MAX_CONTENT_TYPE,
  SESSION_ID_RE,
  validateMeta,
  validateName,
} from './validate.js';

/** Format tag of the export document; bumped on an incompatible change. */
export const BUNDLE_FORMAT = 'cairn-export-1';
/** Name of the first tar entry: the {@link SessionBundle} as JSON. */
export const BUNDLE_ENTRY = 'cairn-export.json';
/** Largest accepted export document (JSON) in bytes. */
export const MAX_BUNDLE_JSON = 64 * 1024 * 1024;

/** One artifact of an export: its record (without expiry) and where its bytes are in the tar. */
export type BundleArtifact = Omit<ArtifactRecord, 'expires_at'> & { path: string };

/** What a session export says about the session. */
export type BundleSession = Pick<
  SessionRecord,
  'id' | 'meta' | 'created_at' | 'sealed' | 'sealed_at' | 'digest' | 'signature'
>;

/**
 * The document at the head of every session export: the session, the public key that signed
 * its seal, the canonical manifest (what the digest covers) and every artifact record with its
 * lineage (`derived_from`, which may name artifacts of other sessions) and tar path.
 */
export interface SessionBundle {
  format: typeof BUNDLE_FORMAT;
  exported_at: string;
  session: BundleSession;
  /** The key that signed the seal (null for an open session). */
  key: PublicKeyInfo | null;
  manifest: Manifest;
  artifacts: BundleArtifact[];
}

/**
 * Tar path of an artifact's bytes: the latest version of a name under `files/<name>`, older
 * versions under `versions/<N>/<name>`, so extracting the tar gives the session as it reads.
 */
export function bundlePath(name: string, version: number, latest: boolean): string {
  return latest ? `files/${name}` : `versions/${version}/${name}`;
}

/** Builds the export document of a session from its record, artifacts and seal key. */
export function buildBundle(
  s: SessionRecord,
  artifacts: ArtifactRecord[],
  key: PublicKeyInfo | null,
  now: number,
): SessionBundle {
  const latest = new Map<string, number>();
  for (const a of artifacts) latest.set(a.name, Math.max(latest.get(a.name) ?? 0, a.version));
  return {
    format: BUNDLE_FORMAT,
    exported_at: new Date(now).toISOString(),
    session: {
      id: s.id,
      meta: s.meta,
      created_at: s.created_at,
      sealed: s.sealed,
      sealed_at: s.sealed_at,
      digest: s.digest,
      signature: s.signature,
    },
    key: s.sealed ? key : null,
    manifest: buildManifest(s.id, artifacts),
    artifacts: artifacts.map((a) => {
      const { expires_at: _omit, ...rest } = a;
      return { ...rest, path: bundlePath(a.name, a.version, latest.get(a.name) === a.version) };
    }),
  };
}

const iso = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'an ISO-8601 time');
const sha = z.string().regex(/^[0-9a-f]{64}$/);
const meta = z.record(z.string(), z.string());
const schema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  exported_at: iso,
  session: z.object({
    id: z.string().regex(SESSION_ID_RE),
    meta,
    created_at: iso,
    sealed: z.boolean(),
    sealed_at: iso.nullable(),
    digest: sha.nullable(),
    signature: z.string().max(200).nullable(),
  }),
  key: z
    .object({
      id: z.string().max(100),
      algorithm: z.literal('ed25519'),
      public_key_pem: z.string().max(1000),
    })
    .nullable(),
  manifest: z.unknown(),
  artifacts: z
    .array(
      z.object({
        id: z.string().regex(/^a_[0-9A-Z]{26}$/),
        session: z.string(),
        name: z.string(),
        version: z.number().int().min(1),
        sha256: sha,
        size: z.number().int().min(0),
        // Sent back as a Content-Type header: what a header value can carry (tab, printable
        // ASCII, Latin-1, as a push accepts); CR/LF or a character above U+00FF would make
        // every read of the artifact fail.
        content_type: z
          .string()
          .min(1)
          .max(MAX_CONTENT_TYPE)
          .regex(HEADER_VALUE, 'a Content-Type a header can carry (no control characters)'),
        meta,
        created_at: iso,
        derived_from: z.array(z.string().regex(/^a_[0-9A-Z]{26}$/)).max(1000),
        path: z.string(),
      }),
    )
    .max(1_000_000),
});

/**
 * Parses and checks an export document: shape, names, metadata, one record per name+version,
 * tar paths as {@link bundlePath} gives them, and the manifest equal to the one the records
 * give. Throws InvalidInputError(`invalid_export`) saying what is wrong. Does not check the
 * digest or signature (see {@link checkBundleSeal}).
 */
export function parseBundle(json: string): SessionBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw invalid(`${BUNDLE_ENTRY} is not valid JSON`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw invalid(`${BUNDLE_ENTRY}: ${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  const b = r.data as SessionBundle;
  if (b.session.sealed !== (b.session.sealed_at !== null) || (b.session.sealed && !b.key))
    throw invalid('a sealed session needs sealed_at, digest, signature and key');
  validateMeta(b.session.meta);
  const seen = new Set<string>();
  const latest = new Map<string, number>();
  for (const a of b.artifacts) {
    validateName(a.name);
    validateMeta(a.meta);
    if (a.session !== b.session.id) throw invalid(`artifact ${a.id} names another session`);
    const key = `${a.version}/${a.name}`;
    if (seen.has(key) || seen.has(a.id))
      throw invalid(`duplicate artifact ${a.name} v${a.version}`);
    seen.add(key).add(a.id);
    latest.set(a.name, Math.max(latest.get(a.name) ?? 0, a.version));
  }
  for (const a of b.artifacts) {
    if (a.path !== bundlePath(a.name, a.version, latest.get(a.name) === a.version))
      throw invalid(`artifact ${a.id} has an unexpected tar path`);
  }
  const rebuilt = canonicalJson(
    buildManifest(
      b.session.id,
      b.artifacts.map((a) => ({ ...a, expires_at: null })),
    ),
  );
  if (rebuilt !== canonicalJson(b.manifest))
    throw invalid('the manifest does not match the artifact records');
  return b;
}

/** One problem found when checking a seal. */
export interface SealProblem {
  what: 'digest' | 'signature' | 'key';
  message: string;
}

/**
 * Recomputes the digest of the bundle's manifest and checks it against the recorded digest
 * and, for a sealed session, that the bundle's key id is its public key's own (a trusted id
 * must not vouch for another key) and the signature against that key. Returns the problems
 * (empty when everything matches) and the recomputed digest.
 */
export function checkBundleSeal(b: SessionBundle): { digest: string; problems: SealProblem[] } {
  const digest = manifestDigest(b.manifest);
  const problems: SealProblem[] = [];
  if (b.session.digest !== null && b.session.digest !== digest) {
    problems.push({
      what: 'digest',
      message: `recorded digest ${b.session.digest} but the manifest hashes to ${digest}`,
    });
  }
  if (b.session.sealed) {
    if (!b.key || !b.session.signature) {
      problems.push({ what: 'key', message: 'the sealed session carries no key or signature' });
    } else if (keyIdOf(b.key.public_key_pem) !== b.key.id) {
      // The id is what a reader trusts (--key, /v1/keys): it must be the key's own.
      problems.push({
        what: 'key',
        message: `the export names key ${b.key.id} but carries a different public key (${keyIdOf(b.key.public_key_pem) ?? 'not a valid key'}): it was not signed by ${b.key.id}`,
      });
    } else if (!verifySeal(b.session.digest ?? '', b.session.signature, b.key.public_key_pem)) {
      problems.push({
        what: 'signature',
        message: `the signature does not verify with key ${b.key.id}`,
      });
    }
  }
  return { digest, problems };
}

/** The id a PEM public key really has, or null if it is not a key. */
function keyIdOf(pem: string): string | null {
  try {
    return sealKeyId(pem);
  } catch {
    return null;
  }
}

function invalid(message: string): InvalidInputError {
  return new InvalidInputError('invalid_export', message);
}
