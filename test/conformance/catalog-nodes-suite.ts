import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ensureAdminToken, loadSealKey, SEAL_KEY_SECRET } from '../../src/core/node-secrets.js';
import { Signer, sealKeyId } from '../../src/core/signer.js';
import { TokenService } from '../../src/core/token-service.js';
import type { CairnError } from '../../src/lib/errors.js';
import { tempDir } from '../helpers/server.js';
import type { CatalogPair } from './catalog-concurrency-suite.js';
import { T0 } from './fixtures.js';

/** A promise every racer awaits, and the function that lets them all go at once. */
function barrier(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/** One node's start: its own data dir, the shared catalog (see createApp). */
async function startNode(c: CatalogPair['a'], dataDir: string, gate: Promise<void>) {
  await gate;
  const tokens = new TokenService({ catalog: c, clock: () => T0 });
  const key = await loadSealKey(c, dataDir);
  const wrote = await ensureAdminToken({ catalog: c, tokens, dataDir, firstStart: true });
  return { signer: new Signer(key), wrote, tokens };
}

/**
 * What several nodes on one catalog need of it beyond one node's rules: secrets claimed once
 * whatever the race (seal key, bootstrap admin token) and token revocation reaching every
 * process within one second. Run against two instances over one store, as two nodes open it.
 */
export function runCatalogNodesSuite(makePair: () => Promise<CatalogPair>): void {
  it('racing claims of one secret from two instances all get the first claim', async () => {
    const { a, b, close } = await makePair();
    for (let r = 0; r < 40; r++) {
      const gate = barrier();
      const claims = Array.from({ length: 8 }, (_, i) =>
        gate.wait.then(() => (i % 2 ? a : b).secrets.claimOnce(`s${r}`, `v${r}-${i}`)),
      );
      gate.open();
      const got = await Promise.all(claims);
      expect(new Set(got).size).toBe(1);
      expect(got[0]).toMatch(new RegExp(`^v${r}-[0-7]$`));
      expect(await a.secrets.get(`s${r}`)).toBe(got[0]);
      expect(await b.secrets.get(`s${r}`)).toBe(got[0]);
      // A claim never replaces the stored value.
      expect(await b.secrets.claimOnce(`s${r}`, 'later')).toBe(got[0]);
    }
    expect(await a.secrets.get('never-claimed')).toBeNull();
    await close();
  });

  it('two nodes starting at once create one seal key and one admin token, mirrored to both', async () => {
    for (let r = 0; r < 6; r++) {
      const { a, b, close } = await makePair();
      const dirs = [tempDir(), tempDir()];
      const gate = barrier();
      const starts = [startNode(a, dirs[0], gate.wait), startNode(b, dirs[1], gate.wait)];
      gate.open();
      const [na, nb] = await Promise.all(starts);
      // One key: both sign alike, both files hold the catalog's key.
      const pem = (await a.secrets.get(SEAL_KEY_SECRET)) ?? '';
      expect(na.signer.publicKey).toEqual(nb.signer.publicKey);
      expect(na.signer.publicKey.id).toBe(sealKeyId(pem));
      for (const d of dirs)
        expect(sealKeyId(readFileSync(join(d, 'seal.key'), 'utf8'))).toBe(na.signer.publicKey.id);
      // One admin token (the loser's candidate is gone), the same secret in both files,
      // accepted by either node.
      expect(await b.countTokens('admin')).toBe(1);
      const secrets = dirs.map((d) => readFileSync(join(d, 'admin.token'), 'utf8').trim());
      expect(secrets[0]).toBe(secrets[1]);
      expect(await na.tokens.authenticate(secrets[0])).toMatchObject({ scope: 'admin' });
      expect(await nb.tokens.authenticate(secrets[0])).toMatchObject({ scope: 'admin' });
      // Restarting either node changes nothing.
      const again = await startNode(b, dirs[1], Promise.resolve());
      expect(again.wrote).toBeNull();
      expect(again.signer.publicKey).toEqual(na.signer.publicKey);
      expect(await a.countTokens('admin')).toBe(1);
      await close();
    }
  });

  it('a node whose seal.key differs from the catalog refuses to start', async () => {
    const { a, b, close } = await makePair();
    const [da, db] = [tempDir(), tempDir()];
    await startNode(a, da, Promise.resolve());
    await startNode(b, db, Promise.resolve());
    const own = tempDir();
    const { generateKeyPairSync } = await import('node:crypto');
    const { writeSecretFile } = await import('../../src/lib/secret-file.js');
    const pem = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    writeSecretFile(join(own, 'seal.key'), pem);
    const err = (await loadSealKey(b, own).catch((e: unknown) => e)) as CairnError;
    expect(err.code).toBe('seal_key_mismatch');
    expect(err.message).toContain('move that file aside');
    // Its file is left as it was.
    expect(readFileSync(join(own, 'seal.key'), 'utf8')).toBe(pem);
    await close();
  });

  it('a token revoked through one instance is refused by the other within 1 s', async () => {
    const { a, b, close } = await makePair();
    let now = T0;
    const clock = () => now;
    const ta = new TokenService({ catalog: a, clock });
    const tb = new TokenService({ catalog: b, clock });
    for (let r = 0; r < 10; r++) {
      const [revoker, other] = r % 2 ? [ta, tb] : [tb, ta];
      const made = await revoker.create({ scope: 'write', name: `t${r}` });
      // The other process has just authenticated it: its cache holds it from this instant.
      expect(await other.authenticate(made.token)).toMatchObject({ tokenId: made.id });
      await revoker.revoke(made.id);
      // The revoking process refuses it at once.
      await expect(revoker.authenticate(made.token)).rejects.toMatchObject({ status: 401 });
      // One second later, every process does.
      now += 1000;
      await expect(other.authenticate(made.token)).rejects.toMatchObject({ status: 401 });
      now += 1;
    }
    await close();
  });
}
