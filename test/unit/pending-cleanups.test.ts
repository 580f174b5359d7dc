import { describe, expect, it } from 'vitest';
import { PendingCleanups } from '../../src/core/pending-cleanups.js';

/** Lease and blob operations over plain sets, failing like a full disk while `full` is set. */
function store() {
  const state = { full: false, leases: new Set(['L1', 'L2']), blobs: new Set(['a', 'b']) };
  const write = () => {
    if (state.full) throw new Error('SQLITE_FULL: database or disk is full');
  };
  const cleanups = new PendingCleanups({
    releaseLease: async (id) => {
      write();
      state.leases.delete(id);
    },
    collect: async (sha) => {
      write();
      return state.blobs.delete(sha);
    },
  });
  return { state, cleanups };
}

describe('PendingCleanups: undoing a failed push when the disk refuses writes', () => {
  it('undoes at once when it can', async () => {
    const { state, cleanups } = store();
    await cleanups.undo('L1', ['a']);
    expect([...state.leases]).toEqual(['L2']);
    expect([...state.blobs]).toEqual(['b']);
    expect(cleanups.size).toBe(0);
  });

  it('keeps what a full disk refused and finishes it on a retry once space is back', async () => {
    const { state, cleanups } = store();
    state.full = true;
    await cleanups.undo('L1', ['a']);
    await cleanups.undo('L2', ['b']);
    expect(cleanups.size).toBe(4);
    await cleanups.retry();
    expect(cleanups.size).toBe(4);
    state.full = false;
    await cleanups.retry();
    expect(cleanups.size).toBe(0);
    expect(state.leases.size).toBe(0);
    expect(state.blobs.size).toBe(0);
  });
});
