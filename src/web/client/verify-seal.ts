/**
 * Checks a sealed session in the browser: recomputes the digest over the canonical manifest
 * (sorted keys, no whitespace — as the server does) and verifies the server's Ed25519 signature
 * of `cairn-seal-v1:<digest>` with the key from /v1/keys. WebCrypto exists only in secure
 * contexts (https, localhost); elsewhere the result is "unchecked".
 */
import { api, apiPath } from './api.js';

/** Outcome of a check: true/false, or null when this browser cannot check. */
export interface SealCheck {
  digest: boolean | null;
  signature: boolean | null;
  keyId: string | null;
}

// The server's own canonical form, bundled in: one definition of the bytes a digest covers.
export { canonicalJson } from '../../lib/canonical-json.js';
import { canonicalJson } from '../../lib/canonical-json.js';

function hex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Verifies digest and signature of a sealed session. */
export async function checkSeal(
  sid: string,
  digest: string,
  signature: string | null,
): Promise<SealCheck> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return { digest: null, signature: null, keyId: null };
  const m = await api<{ session: string; artifacts: unknown[] }>(
    apiPath('/v1/sessions', sid, 'manifest'),
  );
  const bytes = new TextEncoder().encode(
    canonicalJson({ session: m.session, artifacts: m.artifacts }),
  );
  const digestOk = hex(await subtle.digest('SHA-256', bytes)) === digest;
  if (!signature) return { digest: digestOk, signature: false, keyId: null };
  const { keys } = await api<{ keys: { id: string; public_key_pem: string }[] }>('/v1/keys');
  const sig = Uint8Array.from(atob(signature), (c) => c.charCodeAt(0));
  const msg = new TextEncoder().encode(`cairn-seal-v1:${digest}`);
  for (const k of keys) {
    try {
      const key = await subtle.importKey(
        'spki',
        pemToDer(k.public_key_pem),
        { name: 'Ed25519' },
        false,
        ['verify'],
      );
      if (await subtle.verify({ name: 'Ed25519' }, key, sig, msg))
        return { digest: digestOk, signature: true, keyId: k.id };
    } catch {
      // Ed25519 not supported by this browser: unchecked.
      return { digest: digestOk, signature: null, keyId: null };
    }
  }
  return { digest: digestOk, signature: false, keyId: null };
}
