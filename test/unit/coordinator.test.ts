import { describe, expect, it } from 'vitest';
import { LocalCoordinator, type Coordinator } from '../../src/core/coordinator.js';
import { Sweeper } from '../../src/core/sweeper.js';
import { H, makeClockedApp } from '../helpers/clocked-app.js';

/** A coordinator whose answer the test sets: the standby node of a future shared store. */
class SwitchedCoordinator implements Coordinator {
  leader = false;
  async isLeader(): Promise<boolean> {
    return this.leader;
  }
  async close(): Promise<void> {}
}

/** Resolves once `done()` holds, checking on every turn of the event loop. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 1));
}

describe('Sweeper and Coordinator', () => {
  it('sweeps only while its coordinator says this node is the leader', async () => {
    const { app, clock, push, blobExists } = await makeClockedApp();
    await push({ session: 's', name: 'a.txt', ttlMs: H }, 'short-lived');
    clock.now += 2 * H;
    const coordinator = new SwitchedCoordinator();
    const sweeper = new Sweeper({ retention: app.retention, coordinator, intervalMs: 1 });
    sweeper.start();
    await until(() => sweeper.stats.standby >= 5);
    // A standby never swept: the expired row and its bytes are still there.
    expect(sweeper.stats.runs).toBe(0);
    expect((await app.catalog.stats.counts()).artifacts).toBe(1);
    expect(await blobExists('short-lived')).toBe(true);
    coordinator.leader = true;
    await until(() => sweeper.stats.runs >= 1);
    await sweeper.stop();
    expect((await app.catalog.stats.counts()).artifacts).toBe(0);
    expect(await blobExists('short-lived')).toBe(false);
  });

  it('the app sweeps with a LocalCoordinator, which leads until closed', async () => {
    const { app } = await makeClockedApp();
    expect(app.coordinator).toBeInstanceOf(LocalCoordinator);
    expect(await app.coordinator.isLeader()).toBe(true);
    const local = new LocalCoordinator();
    await local.close();
    await local.close();
    expect(await local.isLeader()).toBe(false);
  });
});
