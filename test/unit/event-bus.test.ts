import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/events.js';

describe('EventBus replay window', () => {
  it('keeps exactly the newest `window` events across many compactions', () => {
    const bus = new EventBus(10, 1000);
    const seen: number[] = [];
    bus.subscribe((ev) => seen.push(ev.id));
    for (let i = 0; i < 57; i++) bus.publish('artifact.created', 's', { i });
    expect(seen).toHaveLength(57);
    expect(bus.lastId).toBe(1056);
    const kept = bus.since(0);
    expect(kept.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => 1047 + i));
    expect(kept.map((e) => (e.data as { i: number }).i)).toEqual(
      Array.from({ length: 10 }, (_, i) => 47 + i),
    );
  });

  it('answers since/missedSince from the window, before and after it wraps', () => {
    const bus = new EventBus(4, 1);
    expect(bus.since(0)).toEqual([]);
    expect(bus.missedSince(0)).toBe(false);
    for (let i = 0; i < 3; i++) bus.publish('artifact.created', 's', i);
    expect(bus.since(1).map((e) => e.id)).toEqual([2, 3]);
    expect(bus.missedSince(0)).toBe(false);
    for (let i = 0; i < 9; i++) bus.publish('artifact.created', 's', i);
    // ids 1..12 published; 9..12 remain.
    expect(bus.since(8).map((e) => e.id)).toEqual([9, 10, 11, 12]);
    expect(bus.since(10).map((e) => e.id)).toEqual([11, 12]);
    expect(bus.since(12)).toEqual([]);
    expect(bus.missedSince(8)).toBe(false);
    expect(bus.missedSince(7)).toBe(true);
    expect(bus.missedSince(12)).toBe(false);
    expect(bus.missedSince(13)).toBe(true);
  });
});
