import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import tar from 'tar-stream';
import { manifestDigest } from '../../src/core/manifest.js';
import type { SessionBundle } from '../../src/core/session-bundle.js';

/**
 * A session export rebuilt after `edit` changed its document and/or its files (tar path →
 * bytes), entries in their original order.
 */
export async function rewriteExport(
  genuine: Buffer,
  edit: (doc: SessionBundle, files: Map<string, Buffer>) => void,
): Promise<Buffer> {
  const entries = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.end(genuine);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    entries.set(e.header.name, Buffer.concat(chunks));
  }
  const [[docName, docBytes], ...rest] = [...entries];
  const doc = JSON.parse(docBytes.toString('utf8')) as SessionBundle;
  const files = new Map(rest);
  edit(doc, files);
  const pack = tar.pack();
  pack.entry({ name: docName }, JSON.stringify(doc, null, 2));
  for (const [name, body] of files) pack.entry({ name }, body);
  pack.finalize();
  const out: Buffer[] = [];
  for await (const c of pack) out.push(c as Buffer);
  return Buffer.concat(out);
}

/**
 * What an attacker holding a genuine export can build: the bytes at `path` replaced, the
 * records, manifest and digest recomputed to match, and the seal signed with a fresh key of
 * the attacker's whose PEM is shipped under the genuine key's id. Only a check that the id is
 * the shipped key's own tells it from the real thing.
 */
export function forgeResigned(genuine: Buffer, path: string, bytes: string): Promise<Buffer> {
  return rewriteExport(genuine, (doc, files) => {
    const art = doc.artifacts.find((a) => a.path === path);
    if (!art || !doc.key) throw new Error(`forgeResigned: no sealed artifact at ${path}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const size = Buffer.byteLength(bytes);
    Object.assign(art, { sha256, size });
    for (const m of doc.manifest.artifacts)
      if (m.name === art.name && m.version === art.version) Object.assign(m, { sha256, size });
    files.set(path, Buffer.from(bytes));
    const digest = manifestDigest(doc.manifest);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    doc.session.digest = digest;
    doc.session.signature = sign(null, Buffer.from(`cairn-seal-v1:${digest}`), privateKey).toString(
      'base64',
    );
    doc.key = {
      ...doc.key,
      public_key_pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  });
}
