import type { Ctx } from '../router.js';

/** Artifacts read per catalog query while streaming. */
const PAGE = 1000;

/**
 * `GET /v1/sessions/{sid}/latest`: what is current in a session, compactly — one line per
 * latest live version, `SHA256 NAME\n` (names hold no control characters, so a line is always
 * one artifact), as `text/plain`: in name order from a catalog with `latestLines` (SQLite), else
 * in the order of a `latest` query. What `GET /v1/sessions/{sid}` lists, without the
 * rest of each record: `cairn push --sync` compares against it. Read a page of the catalog at a
 * time and written as it is read (a session of 100,000 names is never held whole), waiting for
 * the client to drain each page. 404 before anything is sent for an unknown session or one
 * outside the token's session glob; a failure once streaming has begun cuts the connection (the
 * chunked body never ends), so a client sees an error, never a shorter list taken for the whole.
 */
export async function streamLatestList(c: Ctx): Promise<void> {
  const session = await c.app.sessions.get(c.params.sid);
  c.res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  try {
    const pages = pagesOf(c, session.id);
    for (let text = await pages.next(); text !== '' && !c.res.destroyed; text = await pages.next())
      if (!c.res.write(text)) await drained(c);
    c.res.end();
  } catch (err) {
    const clientGone = c.res.destroyed;
    c.res.destroy();
    if (!clientGone) throw err;
  }
}

/** The session's lines a page at a time ('' after the last): by name, or by query cursor. */
function pagesOf(c: Ctx, session: string): { next(): Promise<string> } {
  let after = '';
  let cursor: string | undefined;
  let done = false;
  return {
    async next() {
      if (done) return '';
      const text = await c.app.sessions.latestLines(session, after, PAGE);
      if (text !== null) {
        // The last line's name: after the 64 hex digits and the space.
        after = text.slice(text.lastIndexOf('\n', text.length - 2) + 66, -1);
        return text;
      }
      const page = await c.app.artifacts.query({ session, latest: true, limit: PAGE, cursor });
      cursor = page.next_cursor ?? undefined;
      done = !cursor;
      let lines = '';
      for (const rec of page.items) lines += `${rec.sha256} ${rec.name}\n`;
      return lines;
    },
  };
}

/** Resolves when the response can take more, or is closed. */
function drained(c: Ctx): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      c.res.off('drain', done);
      c.res.off('close', done);
      resolve();
    };
    c.res.on('drain', done);
    c.res.on('close', done);
  });
}
