import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { art, SHA, T0 } from './fixtures.js';

/**
 * The PostgreSQL push batcher (pg-push-batcher.ts): calls made while a batch is in flight
 * share the next one's transaction, so one call the fast path refuses must not cost the others
 * their rows, and each call must get its own answer. The shared suites cover the races; these
 * cover the mix. Calls made in one turn are all queued before any batch can end: the fillers
 * take the batch in flight (and maybe the next), the rest go together.
 */
const FILL = 4;
describe('PgCatalog push batches', () => {
  it('one call into a sealed session fails alone; its batch-mates land with dense versions', async () => {
    const cat = await PgCatalog.open({ url: await freshPgDatabase() });
    try {
      await cat.addArtifact(art({ session: 'closed', name: 'x', sha256: SHA('a') }));
      await cat.sealSession('closed', T0 + 1, () => ({ digest: 'd', signature: 's' }));
      for (let round = 0; round < 5; round++) {
        // Same turn: one batch after the fillers, the sealed session's push in its middle.
        const fill = Array.from({ length: FILL }, () =>
          cat.addArtifact(art({ session: 'open', name: 'f', sha256: SHA('b') })),
        );
        const calls = [
          cat.addArtifact(art({ session: 'open', name: 'n', sha256: SHA('b') })),
          cat.addArtifact(art({ session: 'closed', name: 'x', sha256: SHA('c') })),
          cat.addArtifacts([
            art({ session: 'open', name: 'n', sha256: SHA('d') }),
            art({ session: 'open', name: 'm', sha256: SHA('e') }),
          ]),
          cat.addArtifact(art({ session: 'fresh', name: 'n', sha256: SHA('b') })),
        ];
        const out = await Promise.allSettled(calls);
        await Promise.all(fill);
        expect(out.map((o) => o.status)).toEqual([
          'fulfilled',
          'rejected',
          'fulfilled',
          'fulfilled',
        ]);
        expect((out[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'session_sealed' });
      }
      const open = await cat.sessionArtifacts('open', T0);
      expect(open.filter((a) => a.name === 'n').map((a) => a.version)).toEqual(
        Array.from({ length: 10 }, (_, i) => i + 1),
      );
      expect(open.filter((a) => a.name === 'm').map((a) => a.version)).toEqual([1, 2, 3, 4, 5]);
      expect(open.filter((a) => a.name === 'f')).toHaveLength(20);
      expect((await cat.getSession('open', T0))?.artifactCount).toBe(35);
      expect((await cat.getSession('fresh', T0))?.artifactCount).toBe(5);
      // The refused call left nothing: no row, no reference, no event.
      expect((await cat.getSession('closed', T0))?.artifactCount).toBe(1);
      expect(await cat.blobRefs(SHA('c'))).toBe(0);
      expect(await cat.blobRefs(SHA('b'))).toBe(30);
      const page = await cat.events.readAfter(0, 1000);
      const created = page.events.filter((e) => e.type === 'artifact.created');
      expect(created).toHaveLength(1 + 5 * (FILL + 4));
      expect(created.filter((e) => e.session === 'closed')).toHaveLength(1);
    } finally {
      await cat.close();
    }
  });

  it('a parent not live refuses only the call naming it, with the precise error', async () => {
    const cat = await PgCatalog.open({ url: await freshPgDatabase() });
    try {
      const parent = await cat.addArtifact(art({ session: 's', name: 'p', sha256: SHA('a') }));
      const fill = Array.from({ length: FILL }, () =>
        cat.addArtifact(art({ session: 'f', sha256: SHA('a') })),
      );
      const out = await Promise.allSettled([
        cat.addArtifact(
          art({ session: 's', name: 'c', sha256: SHA('b'), derivedFrom: [parent.id] }),
        ),
        cat.addArtifact(
          art({ session: 's', name: 'c', sha256: SHA('b'), derivedFrom: ['a_nope'] }),
        ),
        cat.addArtifact(art({ session: 's', name: 'c', sha256: SHA('b') })),
      ]);
      expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((out[1] as PromiseRejectedResult).reason).toMatchObject({
        code: 'invalid_derived_from',
      });
      await Promise.all(fill);
      const ok = out[0] as PromiseFulfilledResult<{ derivedFrom: string[]; version: number }>;
      expect(ok.value.derivedFrom).toEqual([parent.id]);
      expect((await cat.sessionArtifacts('s', T0)).map((a) => [a.name, a.version])).toEqual([
        ['c', 1],
        ['c', 2],
        ['p', 1],
      ]);
    } finally {
      await cat.close();
    }
  });

  it("a session whose key another transaction holds does not hold up other sessions' pushes", async () => {
    const url = await freshPgDatabase();
    const cat = await PgCatalog.open({ url });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await cat.addArtifact(art({ session: 'busy', sha256: SHA('a') }));
      for (let round = 0; round < 3; round++) {
        // A long seal, prune or delete of `busy` on another node: it holds the session's key.
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', ['s:busy']);
        const stuck = cat.addArtifact(
          art({ session: 'busy', name: `r${round}`, sha256: SHA('b') }),
        );
        let stuckDone = false;
        void stuck.then(() => (stuckDone = true));
        // Pushes into other sessions, queued behind the stuck one's group, land meanwhile.
        const others = await Promise.race([
          Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              cat.addArtifact(art({ session: `free${round}-${i}`, sha256: SHA('c') })),
            ),
          ),
          new Promise<null>((r) => setTimeout(() => r(null), 20_000)),
        ]);
        expect(others, 'other sessions waited for the held key').not.toBeNull();
        expect(stuckDone).toBe(false);
        await holder.query('COMMIT');
        expect((await stuck).version).toBe(1);
      }
    } finally {
      await holder.end();
      await cat.close();
    }
  });
});
