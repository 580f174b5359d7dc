import { EventEmitter } from 'node:events';

/** Kinds of events Cairn publishes. */
export type EventType =
  'artifact.created' | 'artifact.deleted' | 'session.sealed' | 'session.expired';

/** One published event; `id` increases by one per event within this process. */
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
  private readonly recent: CairnEvent[] = [];
  private nextId = 1;

  constructor(private readonly windowSize = 10_000) {
    this.emitter.setMaxListeners(0);
  }

  /** Publishes an event to every subscriber. */
  publish(type: EventType, session: string, data: unknown): CairnEvent {
    const ev: CairnEvent = { id: this.nextId++, type, session, data, at: new Date().toISOString() };
    this.recent.push(ev);
    if (this.recent.length > this.windowSize)
      this.recent.splice(0, this.recent.length - this.windowSize);
    this.emitter.emit('event', ev);
    return ev;
  }

  /** Calls `fn` for each future event; returns the unsubscribe function. */
  subscribe(fn: (ev: CairnEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  /** Events after `lastId` still in the window, oldest first. */
  since(lastId: number): CairnEvent[] {
    return this.recent.filter((e) => e.id > lastId);
  }

  /** Number of current subscribers (for metrics). */
  get subscribers(): number {
    return this.emitter.listenerCount('event');
  }
}
