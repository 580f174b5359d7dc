import type { CairnEvent, EventType } from '../../core/events.js';
import { validateSessionId } from '../../core/validate.js';
import { InvalidInputError } from '../../lib/errors.js';
import { sendJson } from '../respond.js';
import type { Ctx, Route } from '../router.js';

/** Longest a wait may last; longer asks are shortened (the client simply asks again). */
export const MAX_WAIT_MS = 300_000;
/** A stream whose client reads slower than this much buffered output is closed (it resumes). */
const MAX_STREAM_BACKLOG = 1024 * 1024;
const EVENT_TYPES: EventType[] = [
  'artifact.created',
  'artifact.deleted',
  'session.sealed',
  'session.expired',
  'session.deleted',
];

/** Long-poll for a seal and the Server-Sent Events stream. Both wait on the event bus. */
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
 * Answers 200 with the session once it is sealed (at once if it already is, and also when it
 * does not exist yet but gets created and sealed while waiting), or 200 with `sealed: false,
 * timed_out: true` at the timeout. Subscribes to the bus before reading the catalog, so a seal
 * in between cannot be missed; never polls. Releases everything when the client goes away.
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
  let wake!: (sealed: unknown) => void;
  const woken = new Promise<unknown>((r) => (wake = r));
  const unsubscribe = app.events.subscribe((ev) => {
    if (ev.session === sid && ev.type === 'session.sealed') wake(ev.data);
  });
  const timer = setTimeout(() => wake(null), timeoutMs);
  const onClose = () => wake(null);
  res.once('close', onClose);
  const offShutdown = app.events.onShutdown(onClose);
  app.metrics.add('cairn_open_waiters', 'Requests waiting for a seal', 1);
  try {
    const now = await app.catalog.getSession(sid, app.clock());
    if (now?.sealed) wake(now);
    const sealed = await woken;
    if (res.destroyed) return;
    if (sealed) return sendJson(res, 200, { ...(sealed as object), timed_out: false });
    const s = await app.catalog.getSession(sid, app.clock());
    if (s?.sealed) return sendJson(res, 200, { ...s, timed_out: false });
    sendJson(res, 200, { ...(s ?? { id: sid, exists: false }), sealed: false, timed_out: true });
  } finally {
    unsubscribe();
    clearTimeout(timer);
    res.off('close', onClose);
    offShutdown();
    app.metrics.add('cairn_open_waiters', 'Requests waiting for a seal', -1);
  }
}

/**
 * `text/event-stream` of bus events, optionally of one session and some types. Each event has
 * `id:` and `event:` lines and its JSON as `data:`. A client resuming with `Last-Event-ID`
 * (header, or `last_event_id` for clients that cannot set headers) first gets every event it
 * missed that is still in the bus's window (0: the whole window); if some already left it, an
 * `event: gap` comes first. A comment line is sent every `heartbeat` (default 15s) so proxies keep the stream open.
 * Ends, releasing its subscription, when the client goes away or falls 1 MiB behind.
 */
async function streamEvents(c: Ctx): Promise<void> {
  const q = c.query;
  const session = q.str('session');
  if (session !== undefined) validateSessionId(session);
  const types = parseTypes(q.str('types'));
  const heartbeatMs = Math.min(Math.max(q.duration('heartbeat') ?? 15_000, 1000), 60_000);
  const lastRaw = headerOf(c.req.headers['last-event-id']) ?? q.str('last_event_id');
  if (lastRaw !== undefined && !/^\d{1,16}$/.test(lastRaw))
    throw new InvalidInputError('invalid_last_event_id', 'Last-Event-ID must be an event id');
  const { app, res } = c;
  const wanted = (ev: CairnEvent) =>
    (session === undefined || ev.session === session) && (!types || types.includes(ev.type));
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  // HEAD: the headers are the answer (a HEAD stream has no body that would flush them).
  if (c.req.method === 'HEAD') return void res.end();
  res.write(`retry: 2000\n: cairn events${session ? ` of ${session}` : ''}\n\n`);
  const send = (ev: CairnEvent) => {
    if (!wanted(ev) || res.destroyed) return;
    res.write(`id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`);
    if (res.writableLength > MAX_STREAM_BACKLOG) res.destroy();
  };
  // Replay and subscribe in one synchronous step: no event can slip in between.
  if (lastRaw !== undefined) {
    const last = Number(lastRaw);
    // 0 asks for the whole window: nothing to warn about.
    if (last > 0 && app.events.missedSince(last))
      res.write(`event: gap\ndata: ${JSON.stringify({ after: last })}\n\n`);
    for (const ev of app.events.since(last)) send(ev);
  } else {
    // Tell a new client where "now" is, so it can resume from here even if nothing happens.
    res.write(`id: ${app.events.lastId}\n\n`);
  }
  const unsubscribe = app.events.subscribe(send);
  const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
  app.metrics.add('cairn_open_event_streams', 'Open Server-Sent Events streams', 1);
  const offShutdown = app.events.onShutdown(() => res.end());
  await new Promise<void>((resolve) => res.once('close', resolve));
  offShutdown();
  unsubscribe();
  clearInterval(heartbeat);
  app.metrics.add('cairn_open_event_streams', 'Open Server-Sent Events streams', -1);
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
