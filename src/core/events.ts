import { EventEmitter } from 'node:events';

/** Kinds of events Cairn publishes. */
export type EventType =
  | 'artifact.created'
  | 'artifact.deleted'
  | 'session.sealed'
  | 'session.expired'
  | 'session.deleted';

/**
 * One published event. `id` increases by one per event, and starts from the start time in
 * microseconds, so ids keep increasing across restarts: a client resuming with an id from
 * before a restart is told it missed events instead of silently skipping new ones.
 */
export interface CairnEvent {
  id: number;
  type: EventType;
  session: string;
  data: unknown;
  at: string;
}

/**
 * In-process publish/subscribe with a bounded replay window, so a subscriber that reconnects
 * with the last id it saw gets what it missed (if still in the window). Waiters and SSE
 * streams subscribe here instead of polling the catalog.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();
  /** Published events; those before `head` have left the window (dropped in bulk, not per push). */
  private recent: CairnEvent[] = [];
  private head = 0;
  private nextId: number;

  constructor(
    private readonly windowSize = 10_000,
    firstId = Date.now() * 1000,
  ) {
    this.emitter.setMaxListeners(0);
    this.nextId = firstId;
  }

  /** Publishes an event to every subscriber. */
  publish(type: EventType, session: string, data: unknown): CairnEvent {
    const ev: CairnEvent = { id: this.nextId++, type, session, data, at: new Date().toISOString() };
    this.recent.push(ev);
    if (this.recent.length - this.head > this.windowSize) this.head++;
    // Compacting once per window keeps publish O(1); shifting every time cost ~5% of a push.
    if (this.head >= this.windowSize) {
      this.recent = this.recent.slice(this.head);
      this.head = 0;
    }
    this.emitter.emit('event', ev);
    return ev;
  }

  /** Calls `fn` for each future event; returns the unsubscribe function. */
  subscribe(fn: (ev: CairnEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  /**
   * Events after `lastId` still in the window, oldest first (ids are consecutive); at most
   * `limit` of them, so a reader can page through the window at its own pace.
   */
  since(lastId: number, limit = Infinity): CairnEvent[] {
    const start = this.head + Math.max(0, lastId + 1 - this.firstId);
    return this.recent.slice(start, Math.min(this.recent.length, start + limit));
  }

  /** The id of the oldest event still in the window (the next id when it is empty). */
  get firstId(): number {
    return this.recent[this.head]?.id ?? this.nextId;
  }

  /**
   * True if events after `lastId` were published but have left the window, so a client
   * resuming from `lastId` cannot get all it missed (an id from the future counts as a gap too:
   * it came from another server or a clock that went backwards).
   */
  missedSince(lastId: number): boolean {
    return lastId + 1 < this.firstId || lastId >= this.nextId;
  }

  /** The id the next event will get. */
  get lastId(): number {
    return this.nextId - 1;
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
}
