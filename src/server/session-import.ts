import type { IncomingMessage } from 'node:http';
import type { App } from '../app.js';
import type { ImportResult } from '../core/session-import.js';

/**
 * Imports the session export tar a request carries (see ImportService.importTar): a request
 * cut off before its end aborts the import, and nothing is written. Refusals leave the
 * request open, so the 400 answer still reaches the client. `reserve(bytes)` is called before
 * the document is read, with what reading and parsing it may cost (it throws to refuse).
 */
export async function importSessionTar(
  app: App,
  req: IncomingMessage,
  authorize: (sessionId: string) => void,
  opts: { ttlMs?: number; reserve?: (bytes: number) => void } = {},
): Promise<ImportResult> {
  const aborted = new AbortController();
  const onClose = () => {
    if (!req.complete) aborted.abort();
  };
  req.on('close', onClose);
  try {
    return await app.imports.importTar(req, authorize, { ...opts, signal: aborted.signal });
  } finally {
    req.off('close', onClose);
  }
}
