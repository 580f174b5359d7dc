import { EventEmitter } from 'node:events';
import type { EventCatalog, EventPage } from '../catalog/event-catalog.js';

/** Kinds of events Cairn publishes. */
export type EventType =
  | 'artifact.created'
  | 'artifact.deleted'
  | 'session.sealed'
  | 'session.expired'
  | 'session.deleted';

/**
 * One event of the stream. `id` is its position in the catalog's event stream (see
 * EventCatalog): durable, increasing, never given twice, so a client can resume after it
 * across server restarts and from any node sharing the catalog.
 */
export interface CairnEvent {
  id: number;
  type: EventType;
  session: string;
  data: unknown;
  at: string;
}

/** Events read from the catalog per query while catching up. */
const PUMP_PAGE = 1000;

/**
 * The process's one reader of the catalog's event stream (written by the catalog in the
 * transaction of each change, by any process sharing it), fanned out to in-process
 * subscribers: waiters, SSE streams, metrics. Woken by the catalog's doorbell, it reads from
 * its cursor and delivers each event once, in stream order. It keeps the newest `windowSize`
 * events in memory, so streams that keep up are served without a query; a stream further
 * behind reads the catalog itself (see {@link since}).
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Delivered events; those before `head` have left the window (dropped in bulk). */
  private recent: CairnEvent[] = [];
  private head = 0;
  /** Every event after this cursor, up to `position`, is in the window. */
  private windowFrom: number;
  /** The id of the newest event delivered. */
  private position: number;
  private pumping = false;
  private again = false;
  private unwatch: (() => void) | null = null;

  private constructor(
    private readonly stream: EventCatalog,
    from: number,
    private readonly windowSize: number,
  ) {
    this.emitter.setMaxListeners(0);
    this.position = from;
    this.windowFrom = from;
  }

  /**
   * Starts reading `stream` from its tail (only events committed from now on are delivered);
   * {@link close} stops it.
   */
  static async open(stream: EventCatalog, o: { windowSize?: number } = {}): Promise<EventBus> {
    const bus = new EventBus(stream, await stream.tail(), o.windowSize ?? 10_000);
    bus.unwatch = stream.watch(() => bus.pump());
    // Events committed between tail() and watch() rang no bell.
    bus.pump();
    return bus;
  }

  /** Calls `fn` for each event delivered from now on; returns the unsubscribe function. */
  subscribe(fn: (ev: CairnEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  /**
   * Up to `limit` events after `cursor`, oldest first: from memory when the window holds
   * them (nothing past what was delivered), else from the catalog, whose page says `gap` when
   * events after `cursor` were already trimmed.
   */
  async since(cursor: number, limit: number): Promise<EventPage> {
    if (cursor < this.windowFrom) return this.stream.readAfter(cursor, limit);
    // First event after `cursor` (ids increase along the window).
    let lo = this.head;
    let hi = this.recent.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.recent[mid].id <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return { events: this.recent.slice(lo, Math.min(this.recent.length, lo + limit)), gap: false };
  }

  /** A cursor for "only future events" (see EventCatalog.tail). */
  tail(): Promise<number> {
    return this.stream.tail();
  }

  /** A cursor from which every event still held can be read without a gap. */
  oldest(): Promise<number> {
    return this.stream.oldest();
  }

  /** The id of the newest event delivered to subscribers. */
  get lastId(): number {
    return this.position;
  }

  /**
   * Tells long-lived subscribers (waiters, event streams) that the server is shutting down, so
   * they answer and end instead of holding the shutdown up.
   */
  shutdown(): void {
    this.emitter.emit('shutdown');
  }

  /** Calls `fn` once on {@link shutdown}; returns the unsubscribe function. */
  onShutdown(fn: () => void): () => void {
    this.emitter.once('shutdown', fn);
    return () => this.emitter.off('shutdown', fn);
  }

  /** Number of current subscribers (for metrics). */
  get subscribers(): number {
    return this.emitter.listenerCount('event');
  }

  /** Stops reading the stream (before the catalog closes). Idempotent. */
  close(): void {
    this.unwatch?.();
    this.unwatch = null;
  }

  /** Reads and delivers everything after `position`; one reader at a time. */
  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.again = false;
    this.drain()
      // A failed read (catalog closing, engine away) is retried at the next ring.
      .catch(() => undefined)
      .finally(() => {
        this.pumping = false;
        if (this.again && this.unwatch) this.pump();
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const page = await this.stream.readAfter(this.position, PUMP_PAGE);
      if (page.gap) this.restartWindow(page.events[0]?.id ?? (await this.stream.oldest()));
      for (const ev of page.events) this.deliver(ev);
      if (page.events.length < PUMP_PAGE) return;
    }
  }

  /** After events were trimmed unread: the window restarts where reading resumes. */
  private restartWindow(from: number): void {
    this.recent = [];
    this.head = 0;
    this.windowFrom = Math.max(from, this.position);
    this.position = this.windowFrom;
  }

  private deliver(ev: CairnEvent): void {
    this.position = ev.id;
    this.recent.push(ev);
    if (this.recent.length - this.head > this.windowSize)
      this.windowFrom = this.recent[this.head++].id;
    // Compacting once per window keeps delivery O(1); shifting every time cost ~5% of a push.
    if (this.head >= this.windowSize) {
      this.recent = this.recent.slice(this.head);
      this.head = 0;
    }
    this.emitter.emit('event', ev);
  }
}
