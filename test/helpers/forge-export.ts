import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import tar from 'tar-stream';
import { manifestDigest } from '../../src/core/manifest.js';
import type { SessionBundle } from '../../src/core/session-bundle.js';

/**
 * What an attacker holding a genuine export can build: the bytes at `path` replaced, the
 * records, manifest and digest recomputed to match, and the seal signed with a fresh key of
 * the attacker's whose PEM is shipped under the genuine key's id. Only a check that the id is
 * the shipped key's own tells it from the real thing.
 */
export async function forgeResigned(genuine: Buffer, path: string, bytes: string): Promise<Buffer> {
  const entries: { name: string; body: Buffer }[] = [];
  const extract = tar.extract();
  extract.end(genuine);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    entries.push({ name: e.header.name, body: Buffer.concat(chunks) });
  }
  const doc = JSON.parse(entries[0].body.toString('utf8')) as SessionBundle;
  const art = doc.artifacts.find((a) => a.path === path);
  if (!art || !doc.key) throw new Error(`forgeResigned: no sealed artifact at ${path}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const size = Buffer.byteLength(bytes);
  Object.assign(art, { sha256, size });
  for (const m of doc.manifest.artifacts)
    if (m.name === art.name && m.version === art.version) Object.assign(m, { sha256, size });
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
  const pack = tar.pack();
  pack.entry({ name: entries[0].name }, JSON.stringify(doc, null, 2));
  for (const e of entries.slice(1))
    pack.entry({ name: e.name }, e.name === path ? Buffer.from(bytes) : e.body);
  pack.finalize();
  const out: Buffer[] = [];
  for await (const c of pack) out.push(c as Buffer);
  return Buffer.concat(out);
}
