import { createHash, sign, verify, type KeyObject, createPublicKey } from 'node:crypto';

/** The server's public seal key as published at `GET /v1/keys`. */
export interface PublicKeyInfo {
  id: string;
  algorithm: 'ed25519';
  public_key_pem: string;
}

/**
 * Signs seal digests with the server's Ed25519 key. The signed message is the ASCII text
 * `cairn-seal-v1:<digest>`; signatures are base64.
 */
export class Signer {
  readonly publicKey: PublicKeyInfo;

  constructor(private readonly privateKey: KeyObject) {
    const pem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    this.publicKey = { id: sealKeyId(pem), algorithm: 'ed25519', public_key_pem: pem };
  }

  /** Signature (base64) of a seal digest. */
  sign(digest: string): string {
    return sign(null, Buffer.from(`cairn-seal-v1:${digest}`), this.privateKey).toString('base64');
  }
}

/**
 * The id of a seal key: `k_` + the first 16 hex digits of the sha256 of its SPKI PEM. Accepts
 * any PEM key (a private key's public half is used); throws for text that is not a key.
 */
export function sealKeyId(pem: string): string {
  const spki = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  return `k_${createHash('sha256').update(spki).digest('hex').slice(0, 16)}`;
}

/** True if `signature` is a valid signature of `digest` by the PEM public key. */
export function verifySeal(digest: string, signature: string, publicKeyPem: string): boolean {
  try {
    return verify(
      null,
      Buffer.from(`cairn-seal-v1:${digest}`),
      createPublicKey(publicKeyPem),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
