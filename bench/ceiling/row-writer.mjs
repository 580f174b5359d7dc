// The writer thread of row-server.mjs: each push is Cairn's catalog write path, the bytes into
// inline_blobs and the artifact row (SqliteCatalog.add), in the catalog's group commit. At
// most 16 pushes start per turn of the loop, so WAL fsyncs that finish are answered between
// commits (unbounded batches measured ~20% fewer pushes/s).
import { Buffer } from 'node:buffer';
import { setImmediate } from 'node:timers';
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteCatalog } from '../../build/catalog/sqlite/sqlite-catalog.js';

const PER_TURN = 16;
const catalog = SqliteCatalog.open({ dir: workerData.dir, durability: 'full' });
const queue = [];
let scheduled = false;

parentPort.on('message', (pushes) => {
  queue.push(...pushes);
  schedule();
});

function schedule() {
  if (scheduled || queue.length === 0) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    const turn = queue.splice(0, PER_TURN);
    Promise.all(turn.map(store)).then((answers) => parentPort.postMessage(answers));
    schedule();
  });
}

async function store(p) {
  const now = Date.now();
  await catalog.capabilities.inlineBlobs.put(p.sha256, Buffer.from(p.bytes));
  const row = await catalog.addArtifact({
    id: `a_${randomUUID()}`,
    session: p.session,
    name: p.name,
    sha256: p.sha256,
    size: p.bytes.length,
    contentType: p.contentType ?? 'application/octet-stream',
    meta: {},
    createdAt: now,
    expiresAt: null,
    derivedFrom: [],
    sessionExpiresAt: null,
  });
  return [p.tag, { id: row.id, version: row.version }];
}
