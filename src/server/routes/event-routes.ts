import type { CairnEvent, EventType } from '../../core/events.js';
import { validateSessionId } from '../../core/validate.js';
import { InvalidInputError } from '../../lib/errors.js';
import { sendJson } from '../respond.js';
import type { Ctx, Route } from '../router.js';

/** Longest a wait may last; longer asks are shortened (the client simply asks again). */
export const MAX_WAIT_MS = 300_000;
/**
 * Events written to an event stream at a time; the next page waits until the client has read
 * the last one (~100-500 bytes each: at most a few hundred KiB buffered per stream).
 */
const REPLAY_PAGE = 256;
const EVENT_TYPES: EventType[] = [
  'artifact.created',
  'artifact.deleted',
  'session.sealed',
  'session.expired',
  'session.deleted',
];

/** Long-poll for a seal and the Server-Sent Events stream. Both follow the event stream. */
export function bindEventRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/sessions/:sid/wait',
      query: ['until', 'timeout'],
      access: 'read',
      summary: 'Long-poll until the session is sealed (?until=sealed&timeout=60s, at most 5m)',
      handler: waitSealed,
    },
    {
      method: 'GET',
      path: '/v1/events',
      query: ['session', 'types', 'last_event_id', 'heartbeat'],
      access: 'read',
      summary: 'Server-Sent Events (?session=, ?types=); resumes after Last-Event-ID',
      handler: streamEvents,
    },
  ];
}

/**
 * Answers 200 with the session once it is sealed (see SessionService.waitSealed), or 200 with
 * `sealed: false, timed_out: true` at the timeout. Stops waiting when the client goes away.
 * A token limited to other sessions never gets here: the route's `sid` is checked first (404).
 */
/** `?timeout=`; its error names the real bound (a longer wait is cut to 5m, not refused). */
function waitTimeout(c: Ctx): number | undefined {
  try {
    return c.query.duration('timeout');
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    throw new InvalidInputError(
      'invalid_duration',
      `timeout '${String(c.query.str('timeout')).slice(0, 40)}' must be a duration such as 30s or 5m, above zero; waits longer than 5m are cut to 5m (ask again)`,
    );
  }
}

async function waitSealed(c: Ctx): Promise<void> {
  const q = c.query;
  const until = q.str('until') ?? 'sealed';
  if (until !== 'sealed')
    throw new InvalidInputError('invalid_query', "until must be 'sealed' (the only condition)");
  const sid = validateSessionId(c.params.sid);
  const timeoutMs = Math.min(waitTimeout(c) ?? 60_000, MAX_WAIT_MS);
  const { app, res } = c;
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.once('close', onClose);
  app.metrics.add('cairn_open_waiters', 'Requests waiting for a seal', 1);
  try {
    const r = await app.sessions.waitSealed(sid, { timeoutMs, signal: gone.signal });
    if (res.destroyed) return;
    if (r.sealed) return sendJson(res, 200, { ...r.sealed, timed_out: false });
    sendJson(res, 200, {
      ...(r.current ?? { id: sid, exists: false }),
      sealed: false,
      timed_out: true,
    });
  } finally {
    res.off('close', onClose);
    app.metrics.add('cairn_open_waiters', 'Requests waiting for a seal', -1);
  }
}

/**
 * `text/event-stream` of the catalog's event stream, optionally of one session and some
 * types, and only of sessions the token reads (`?session=` naming another is a 404). Each
 * event has `id:` and `event:` lines and its JSON as `data:`. Ids are durable positions in
 * the stream (see EventCatalog): a client resuming with `Last-Event-ID` (header, or
 * `last_event_id` for clients that cannot set headers), after a reconnect or a server
 * restart, first gets every event it missed that the stream still holds (0: all it holds);
 * if some were already trimmed (older than a day, or past the newest 100,000), or the id is
 * newer than any this store gave, an `event: gap` comes first. A comment line is sent every
 * `heartbeat` (default 15s) so proxies keep the stream open. The stream is a cursor, written
 * a page at a time and only as fast as the client reads: a client far behind reads the
 * catalog instead of the in-memory window, and gets `event: gap` only if what it has not
 * read yet was trimmed meanwhile. Ends, releasing its subscription, when the client goes away
 * or the server shuts down.
 */
async function streamEvents(c: Ctx): Promise<void> {
  const q = c.query;
  const session = q.str('session');
  if (session !== undefined) c.reads.checkSession(validateSessionId(session));
  const types = parseTypes(q.str('types'));
  const heartbeatMs = Math.min(Math.max(q.duration('heartbeat') ?? 15_000, 1000), 60_000);
  const lastRaw = headerOf(c.req.headers['last-event-id']) ?? q.str('last_event_id');
  if (lastRaw !== undefined && !/^\d{1,16}$/.test(lastRaw))
    throw new InvalidInputError('invalid_last_event_id', 'Last-Event-ID must be an event id');
  const { app, res } = c;
  // Whether a push's bytes were already stored (somewhere) is not for a token limited to
  // some sessions: it could tell that other sessions hold them.
  const shown = (ev: CairnEvent) =>
    c.reads.glob === null || ev.type !== 'artifact.created'
      ? ev
      : { ...ev, data: { ...(ev.data as object), deduplicated: undefined } };
  const wanted = (ev: CairnEvent) =>
    (session === undefined || ev.session === session) &&
    (!types || types.includes(ev.type)) &&
    c.reads.sees(ev.session);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  // HEAD: the headers are the answer (a HEAD stream has no body that would flush them).
  if (c.req.method === 'HEAD') return void res.end();
  res.write(`retry: 2000\n: cairn events${session ? ` of ${session}` : ''}\n\n`);
  let cursor: number;
  if (lastRaw === undefined) {
    // Tell a new client where "now" is, so it can resume from here even if nothing happens.
    cursor = await app.events.tail();
    res.write(`id: ${cursor}\n\n`);
  } else if (Number(lastRaw) === 0) {
    // 0 asks for every event still held: nothing to warn about.
    cursor = await app.events.oldest();
  } else {
    cursor = Number(lastRaw);
    const tail = await app.events.tail();
    if (cursor > tail) {
      // From the future (another store, a restored backup): say so and go on from now.
      res.write(`event: gap\ndata: ${JSON.stringify({ after: cursor })}\n\n`);
      cursor = tail;
    }
  }
  // Set by every event delivered: one that comes while a page is being read is not missed.
  let pending = false;
  let wake: (() => void) | null = null;
  const signal = () => {
    pending = true;
    const w = wake;
    wake = null;
    w?.();
  };
  const unsubscribe = app.events.subscribe(signal);
  res.once('close', signal);
  const offShutdown = app.events.onShutdown(() => {
    res.end();
    signal();
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
  app.metrics.add('cairn_open_event_streams', 'Open Server-Sent Events streams', 1);
  try {
    while (!res.writableEnded && !res.destroyed) {
      pending = false;
      const page = await app.events.since(cursor, REPLAY_PAGE);
      if (res.writableEnded || res.destroyed) break;
      if (page.gap) {
        res.write(`event: gap\ndata: ${JSON.stringify({ after: cursor })}\n\n`);
        // Nothing held after it: go on from where the trimmed events ended.
        if (page.events.length === 0) cursor = await app.events.oldest();
      }
      if (page.events.length === 0) {
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      let text = '';
      for (const ev of page.events) {
        cursor = ev.id;
        if (wanted(ev))
          text += `id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify(shown(ev))}\n\n`;
      }
      if (text !== '' && !res.write(text)) await drained(res);
    }
  } finally {
    offShutdown();
    unsubscribe();
    res.off('close', signal);
    clearInterval(heartbeat);
    app.metrics.add('cairn_open_event_streams', 'Open Server-Sent Events streams', -1);
  }
}

/** Resolves once `res` can take more output, or has closed. */
function drained(res: Ctx['res']): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

function parseTypes(v: string | undefined): EventType[] | undefined {
  if (v === undefined || v === '') return undefined;
  const types = v.split(',').map((t) => t.trim());
  for (const t of types) {
    if (!EVENT_TYPES.includes(t as EventType))
      throw new InvalidInputError(
        'invalid_query',
        `unknown event type '${t.slice(0, 40)}'; use ${EVENT_TYPES.join(', ')}`,
      );
  }
  return types as EventType[];
}

function headerOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
