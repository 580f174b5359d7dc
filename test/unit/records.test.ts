import { describe, expect, it } from 'vitest';
import { artifactEventData, sessionEventData } from '../../src/catalog/event-payload.js';
import type { StoredArtifact, StoredSession } from '../../src/catalog/catalog.js';
import { buildManifest, manifestDigest } from '../../src/core/manifest.js';
import { artifactRecord, sessionRecord, tokenRecord } from '../../src/core/records.js';

// The API records, byte for byte (key order included): what clients, exports and seal
// digests of existing stores were made from before catalogs returned their own rows.

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const ARTIFACT: StoredArtifact = {
  id: 'a_01',
  session: 'run_1',
  name: 'out/r.json',
  version: 2,
  sha256: 'ab'.repeat(32),
  size: 12,
  contentType: 'application/json',
  meta: { agent: 'x' },
  createdAt: T,
  expiresAt: T + 1000,
  derivedFrom: ['a_00'],
};
const SESSION: StoredSession = {
  id: 'run_1',
  meta: { team: 'y' },
  createdAt: T,
  updatedAt: T + 1,
  expiresAt: T + 2,
  pinned: false,
  sealedAt: T + 3,
  digest: 'd',
  signature: 's',
  artifactCount: 1,
  totalBytes: 12,
  keepVersions: null,
};

describe('core/records', () => {
  it('formats an artifact as the API always has', () => {
    expect(JSON.stringify(artifactRecord(ARTIFACT))).toBe(
      '{"id":"a_01","session":"run_1","name":"out/r.json","version":2,"sha256":"' +
        'ab'.repeat(32) +
        '","size":12,"content_type":"application/json","meta":{"agent":"x"},' +
        '"created_at":"2026-01-02T03:04:05.678Z","expires_at":"2026-01-02T03:04:06.678Z",' +
        '"derived_from":["a_00"]}',
    );
    expect(artifactRecord({ ...ARTIFACT, expiresAt: null }).expires_at).toBeNull();
  });

  it('formats a session as the API always has; a pinned one shows no expiry', () => {
    expect(JSON.stringify(sessionRecord(SESSION))).toBe(
      '{"id":"run_1","meta":{"team":"y"},"created_at":"2026-01-02T03:04:05.678Z",' +
        '"updated_at":"2026-01-02T03:04:05.679Z","expires_at":"2026-01-02T03:04:05.680Z",' +
        '"sealed":true,"sealed_at":"2026-01-02T03:04:05.681Z","digest":"d","signature":"s",' +
        '"pinned":false,"artifact_count":1,"total_bytes":12,"keep_versions":null}',
    );
    const open = sessionRecord({ ...SESSION, sealedAt: null, pinned: true });
    expect([open.sealed, open.sealed_at, open.expires_at, open.pinned]).toEqual([
      false,
      null,
      null,
      true,
    ]);
  });

  it('formats a token without its secret', () => {
    const t = { id: 't_1', name: 'ci', scope: 'read' as const, sessions: null };
    expect(JSON.stringify(tokenRecord({ ...t, createdAt: T, lastUsedAt: null }))).toBe(
      '{"id":"t_1","name":"ci","scope":"read","sessions":null,' +
        '"created_at":"2026-01-02T03:04:05.678Z","last_used_at":null}',
    );
  });

  it('seals the same digest as before: the manifest is built from these records', () => {
    // Computed from the record the SQLite catalog formatted itself (toArtifact) before this
    // formatter existed.
    expect(manifestDigest(buildManifest('run_1', [artifactRecord(ARTIFACT)]))).toBe(DIGEST);
  });

  it('is what the catalog stores as event data (nodes one release apart share the stream)', () => {
    for (const s of [SESSION, { ...SESSION, pinned: true, sealedAt: null }])
      expect(JSON.stringify(sessionEventData(s))).toBe(JSON.stringify(sessionRecord(s)));
    for (const a of [ARTIFACT, { ...ARTIFACT, expiresAt: null, derivedFrom: [] }])
      expect(JSON.stringify(artifactEventData(a))).toBe(JSON.stringify(artifactRecord(a)));
  });
});

const DIGEST = 'dce3893421b278501aaed86cdfa379f80175f4c9e2554205f5a40a7122eb8575';
