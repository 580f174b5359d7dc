import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArtifactaTestServer, type ArtifactaTestServer } from '../helpers/artifacta.js';
import { ArtifactaClient } from './artifacta-client.js';

let s: ArtifactaTestServer;
let admin: ArtifactaClient;
let limited: ArtifactaClient;

beforeAll(async () => {
  s = await startArtifactaTestServer();
  admin = new ArtifactaClient(s.aUrl, s.key);
  const res = await s.fetch('/v1/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ scope: 'write', sessions: 'mine_*', artifacta: true }),
  });
  limited = new ArtifactaClient(s.aUrl, ((await res.json()) as { token: string }).token);
  for (const sid of ['mine_1', 'theirs_1'])
    expect((await admin.store({ filename: 'a.txt', content: sid, session_id: sid })).status).toBe(
      201,
    );
});
afterAll(async () => s.close());

describe("a key limited to a session glob sees only those sessions (as Cairn's own routes)", () => {
  it('lists only its sessions', async () => {
    const mine = await limited.sessions({});
    expect(mine.body.sessions?.map((x) => x.session_id)).toEqual(['mine_1']);
    const all = await admin.sessions({});
    expect(all.body.sessions?.map((x) => x.session_id).sort()).toEqual(['mine_1', 'theirs_1']);
  });

  it('lists only the artifacts of its sessions, even when asked for another session', async () => {
    const mine = await limited.list({});
    expect(mine.body.artifacts?.map((a) => a.session_id)).toEqual(['mine_1']);
    const theirs = await limited.list({ session_id: 'theirs_1' });
    expect(theirs.body.artifacts).toEqual([]);
  });
});
