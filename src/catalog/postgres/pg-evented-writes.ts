import type { NewArtifact, RemovedArtifact } from '../catalog.js';
import { artifactEventData, sessionEventData } from '../event-payload.js';
import { toArtifact } from '../sqlite/rows.js';
import type { StoredArtifact, StoredSession } from '../stored-rows.js';
import { addArtifactRow, removeArtifactRow } from './pg-artifact-writes.js';
import type { PgDb } from './pg-db.js';
import { appendEvents } from './pg-event-rows.js';
import { pgSessionWrites } from './pg-session-writes.js';

// The PostgreSQL catalog's writes that take a session's key and append their events in their
// own transaction (the push groups of PgPushBatcher do the same in SQL).

/** Adds `list` as one call on its own, SERIALIZABLE, every case handled (see PgPushBatcher). */
export function addArtifactsAlone(db: PgDb, list: NewArtifact[]): Promise<StoredArtifact[]> {
  return db.tx(
    async (t) => {
      const out: StoredArtifact[] = [];
      for (const a of list) out.push(toArtifact(await addArtifactRow(t, a)));
      // One `artifact.created` per row, in the push's own transaction.
      await appendEvents(
        t,
        out.map((added, i) => {
          const data = artifactEventData(added);
          const dedup = list[i].deduplicated;
          if (dedup !== undefined) data.deduplicated = dedup;
          return { type: 'artifact.created', session: added.session, data };
        }),
      );
      return out;
    },
    { lock: list.flatMap((a) => [`s:${a.session}`, `b:${a.sha256}`]) },
  );
}

/** Seals session `id` (see Catalog.sealSession), with its `session.sealed` event. */
export function sealWithEvent(
  db: PgDb,
  id: string,
  now: number,
  computeSeal: (artifacts: StoredArtifact[]) => { digest: string; signature: string },
): Promise<StoredSession> {
  // The session's key before the snapshot: pushes hold it while they write the session (see
  // pg-push-functions.ts), so a seal waits for them instead of rerunning until it gives up.
  return db.tx(
    async (t) => {
      let sealing = false;
      const rec = await pgSessionWrites.seal(t, id, now, (artifacts) => {
        sealing = true;
        return computeSeal(artifacts);
      });
      if (sealing)
        await appendEvents(t, [
          { type: 'session.sealed', session: id, data: sessionEventData(rec) },
        ]);
      return rec;
    },
    { lock: [`s:${id}`] },
  );
}

/** Deletes artifact `id` (see Catalog.deleteArtifact), with its `artifact.deleted` event. */
export async function deleteWithEvent(db: PgDb, id: string, now: number): Promise<RemovedArtifact> {
  // Its session's key first, as pushes take it (see pg-push-functions.ts).
  const owner = await db.get<{ id: string }>(
    'SELECT s.id FROM artifacts a JOIN sessions s ON s.seq = a.session_seq WHERE a.id = $1',
    [id],
  );
  return db.tx(
    async (t) => {
      const { row, unreferenced } = await removeArtifactRow(t, id, now);
      const artifact = toArtifact(row);
      await appendEvents(t, [
        { type: 'artifact.deleted', session: artifact.session, data: artifactEventData(artifact) },
      ]);
      return { artifact, blobUnreferenced: unreferenced };
    },
    { lock: owner ? [`s:${owner.id}`] : [] },
  );
}
