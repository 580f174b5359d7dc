import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import { ConflictError } from '../lib/errors.js';
import { readIfExists, writeSecretFile } from '../lib/secret-file.js';
import { sealKeyId } from './signer.js';
import type { TokenService } from './token-service.js';

/** Name of the seal key's row in SecretCatalog. */
export const SEAL_KEY_SECRET = 'seal_key';
/** Name of the first bootstrap admin token's row; later ones add `.2`, `.3`, … */
export const ADMIN_TOKEN_SECRET = 'admin_token';

/**
 * The seal key every node sharing the catalog signs with. The catalog's `seal_key` row is the
 * source; `<data>/seal.key` (Ed25519, PKCS#8 PEM, 0600) mirrors it. The first node to start
 * claims the row with its own file's key if it has one (a store made before the row existed
 * keeps its key), else with a fresh key; every other node gets the winner's key and writes it
 * to its missing file. Throws ConflictError(`seal_key_mismatch`) when this data dir's file
 * holds another key than the catalog: signing with it would make seals another node cannot
 * stand behind, and overwriting a private key is not this function's call.
 */
export async function loadSealKey(catalog: Catalog, dataDir: string): Promise<KeyObject> {
  const path = join(dataDir, 'seal.key');
  const local = readIfExists(path);
  const offer =
    local ??
    generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pem = await catalog.secrets.claimOnce(SEAL_KEY_SECRET, offer);
  if (local === null) writeSecretFile(path, pem);
  else if (sealKeyId(local) !== sealKeyId(pem)) {
    throw new ConflictError(
      'seal_key_mismatch',
      `${path} holds seal key ${sealKeyId(local)}, but the catalog's seal key is ${sealKeyId(pem)}; move that file aside and start again (this node then writes the catalog's key there)`,
    );
  }
  return createPrivateKey(pem);
}

/** What a bootstrap admin token row holds. */
interface BootstrapToken {
  id: string;
  secret: string;
}

/**
 * Makes sure the catalog has an admin token, creating exactly one however many nodes start at
 * once, and mirrors it to `<data>/admin.token` (0600). Returns that path if this start wrote the
 * file, else null.
 *
 * The bootstrap token is claimed in SecretCatalog (`admin_token`: its id and secret). Each
 * starting node adds its candidate token *before* it claims and revokes it if it lost, so a
 * claimed token that is missing was revoked, never not yet written. A revoked bootstrap token
 * is replaced (through the next name, `admin_token.2`, …) only when no admin token is left, as a
 * restart always did. The file is written by the node whose claim won and on the first start of
 * a data dir (`firstStart`: a node joining the store gets it); a file deleted later stays
 * deleted. A store whose admin tokens predate the claims has an empty claim: nothing happens.
 */
export async function ensureAdminToken(o: {
  catalog: Catalog;
  tokens: TokenService;
  dataDir: string;
  firstStart: boolean;
}): Promise<string | null> {
  for (let link = 1; link <= 1000; link++) {
    const name = link === 1 ? ADMIN_TOKEN_SECRET : `${ADMIN_TOKEN_SECRET}.${link}`;
    const { token, won } = await claimAdmin(o, name);
    const alive = token !== null && (await o.catalog.listTokens()).some((t) => t.id === token.id);
    if (!alive) {
      if ((await o.catalog.countTokens('admin')) > 0) return null;
      continue;
    }
    if (!won && !o.firstStart) return null;
    const path = join(o.dataDir, 'admin.token');
    const content = `${token.secret}\n`;
    if (readIfExists(path) === content) return null;
    writeSecretFile(path, content);
    return path;
  }
  throw new Error('more than 1000 bootstrap admin tokens were revoked; create one by hand');
}

/** The bootstrap token claimed under `name` (null for the legacy empty claim), and who won. */
async function claimAdmin(
  o: { catalog: Catalog; tokens: TokenService },
  name: string,
): Promise<{ token: BootstrapToken | null; won: boolean }> {
  const held = await o.catalog.secrets.get(name);
  if (held !== null) return { token: parse(held), won: false };
  const made = await o.tokens.create({ scope: 'admin', name: 'admin (created at first start)' });
  const offer = JSON.stringify({ id: made.id, secret: made.token } satisfies BootstrapToken);
  const stored = await o.catalog.secrets.claimOnce(name, offer);
  if (stored === offer) return { token: parse(stored), won: true };
  await o.tokens.revoke(made.id);
  return { token: parse(stored), won: false };
}

function parse(value: string): BootstrapToken | null {
  return value === '' ? null : (JSON.parse(value) as BootstrapToken);
}
