import type { NewArtifact } from '../../src/catalog/catalog.js';
import type { CairnError } from '../../src/lib/errors.js';
import { newId } from '../../src/lib/ids.js';

/** The time every conformance case starts at. */
export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A fake sha256 made of one repeated character. */
export const SHA = (c: string) => c.repeat(64).slice(0, 64);

/** A valid NewArtifact with overrides. */
export function art(over: Partial<NewArtifact> = {}): NewArtifact {
  return {
    id: newId('a'),
    session: 's1',
    name: 'out.txt',
    sha256: SHA('a'),
    size: 10,
    contentType: 'text/plain',
    meta: {},
    createdAt: T0,
    expiresAt: null,
    derivedFrom: [],
    sessionExpiresAt: null,
    ...over,
  };
}

/** 'ok' if `p` resolves, else the CairnError code it rejects with. */
export const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as CairnError).code,
  );
