import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileLock } from '../../lib/file-lock.js';
import { CommitJournal } from './commit-journal.js';

/** Where this node's uploads and journal live, and what start-up recovery may clean. */
export interface StagingLayout {
  /** `<root>/tmp`: uploads in flight, named `<node>~<time>-<random>`. */
  tmpDir: string;
  /** `<root>/nodes`: `<node>.lock` (held while the node lives) and `<node>.journal`. */
  nodesDir: string;
  /** `<root>/blobs.journal`: the journal of a Cairn from before nodes had their own. */
  legacyJournal: string;
}

/**
 * Removes a blob a dead node's journal left open if it is an orphan; true if it went. Absent:
 * recovery drops dead journals unread.
 */
export type OrphanRemover = (sha256: string) => Promise<boolean>;

/**
 * This process's share of a blob directory that several processes (nodes) may use at once: a
 * node id, a lock held while it lives, its own commit journal, and its uploads named after it.
 * Recovery cleans only what dead nodes left (their lock is free): never another live
 * process's upload in flight, nor a blob it committed whose catalog row is not written yet.
 */
export class NodeStaging {
  /** `<host>.<pid>.<random>`: unique among the processes sharing the directory. */
  nodeId = '';
  /** This node's commit journal (`<nodes>/<node>.journal`); set by {@link enter}. */
  journal!: CommitJournal;
  private lock: FileLock | null = null;
  private uploads = 0;

  constructor(
    private readonly layout: StagingLayout,
    private readonly nativeBinding?: unknown,
  ) {}

  /** True once {@link enter} took the lock. */
  get entered(): boolean {
    return this.lock !== null;
  }

  /** Takes this node's id and lock (once), creating the directories. */
  async enter(): Promise<void> {
    if (this.lock) return;
    await fsp.mkdir(this.layout.nodesDir, { recursive: true });
    await fsp.mkdir(this.layout.tmpDir, { recursive: true });
    const host = hostname()
      .replace(/[^A-Za-z0-9-]/g, '_')
      .slice(0, 40);
    for (let attempt = 0; attempt < 5 && !this.lock; attempt++) {
      const id = `${host}.${process.pid}.${randomBytes(4).toString('hex')}`;
      const path = join(this.layout.nodesDir, `${id}.lock`);
      const lock = FileLock.tryAcquire(path, { nativeBinding: this.nativeBinding });
      // A recovery may have taken the new file for a dead node's and removed it in the instant
      // before this lock: then it locks nothing anyone sees, and a fresh id is drawn.
      if (lock && !fs.existsSync(path)) lock.release();
      else if (lock) {
        this.nodeId = id;
        this.journal = new CommitJournal(join(this.layout.nodesDir, `${id}.journal`));
        this.lock = lock;
      }
    }
    if (!this.lock) throw new Error(`no node lock could be taken in ${this.layout.nodesDir}`);
  }

  /** A fresh path for an upload of this node (call {@link enter} first). */
  tmpPath(): string {
    return join(
      this.layout.tmpDir,
      `${this.nodeId}~${Date.now()}-${(this.uploads++).toString(36)}`,
    );
  }

  /**
   * Cleans what dead nodes left (their lock is free): their uploads, and, through
   * `removeOrphan`, the blobs their journals list; then starts this node's journal afresh.
   * Returns the hashes removed.
   */
  async recover(removeOrphan: OrphanRemover | undefined): Promise<string[]> {
    await this.enter();
    const removed: string[] = [];
    const drop = async (path: string) => {
      for (const sha of removeOrphan ? new CommitJournal(path).pending() : []) {
        if (await removeOrphan!(sha)) removed.push(sha);
      }
      await fsp.rm(path, { force: true });
    };
    await drop(this.layout.legacyJournal);
    // This node is alive: never ask its own lock.
    const verdict = new Map<string, boolean>([[this.nodeId, false]]);
    const held: FileLock[] = [];
    const isDead = (id: string): boolean => {
      let dead = verdict.get(id);
      if (dead === undefined) {
        // A node takes its lock before it writes anything: a free (or missing) lock is a dead
        // node's. Held until its leftovers are gone, so no other recovery works on them too.
        const lock = FileLock.tryAcquire(join(this.layout.nodesDir, `${id}.lock`), {
          nativeBinding: this.nativeBinding,
        });
        if (lock) held.push(lock);
        dead = lock !== null;
        verdict.set(id, dead);
      }
      return dead;
    };
    try {
      for (const name of await fsp.readdir(this.layout.nodesDir)) {
        const m = /^(.+)\.journal$/.exec(name);
        if (m && isDead(m[1])) await drop(join(this.layout.nodesDir, name));
      }
      for (const name of await fsp.readdir(this.layout.tmpDir)) {
        const sep = name.indexOf('~');
        // No node id: left by a Cairn from before nodes had their own uploads.
        if (sep === -1 || isDead(name.slice(0, sep))) {
          await fsp.rm(join(this.layout.tmpDir, name), { recursive: true, force: true });
        }
      }
      for (const name of await fsp.readdir(this.layout.nodesDir)) {
        const m = /^(.+)\.lock$/.exec(name);
        if (m) isDead(m[1]);
      }
    } finally {
      for (const lock of held) lock.release({ remove: true });
    }
    this.journal.reset();
    return removed;
  }

  /**
   * Closes the journal and gives the lock back. With nothing left open in the journal, both
   * files go; else they stay for the next recovery, as after a crash.
   */
  close(): void {
    if (!this.lock) return;
    this.journal.close();
    const clean = this.journal.openCount === 0;
    if (clean) fs.rmSync(this.journal.path, { force: true });
    this.lock.release({ remove: clean });
    this.lock = null;
  }
}
