import * as fs from 'node:fs';

/** How many entries the journal may hold before it is rewritten with only the open ones. */
const ROTATE_AT = 4096;
const SHA_RE = /^[0-9a-f]{64}$/;

/**
 * Records which blobs were renamed into the store but may not be referenced by the catalog yet
 * (a crash between the blob's rename and the catalog's commit leaves such an orphan).
 *
 * `begin(sha)` appends the hash before the rename; `end(sha)` appends `-hash` once the caller
 * is done (catalog row committed, or the push failed and cleaned up). The file is rewritten with
 * only the still-open hashes once it holds {@link ROTATE_AT} entries, so start-up recovery
 * reads at most a few thousand lines whatever the store's size (DESIGN §7: fast start).
 *
 * Writes are plain `write(2)` calls without fsync: they survive a process crash (kill -9). After
 * a power loss an orphan may go unrecorded; it wastes space only, and `cairn fsck --repair`
 * finds it. All methods are synchronous, so entries never interleave.
 */
export class CommitJournal {
  private fd: number | null = null;
  private lines = 0;
  private readonly openSet = new Map<string, number>();

  /** @param path The journal file (created at the first write). */
  constructor(readonly path: string) {}

  /** How many begun hashes this process has not ended yet. */
  get openCount(): number {
    return this.openSet.size;
  }

  /** Every hash the journal holds (from a previous run); call before {@link reset}. */
  pending(): string[] {
    let text = '';
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    const open = new Map<string, number>();
    for (const line of text.split('\n')) {
      const closing = line.startsWith('-');
      const sha = closing ? line.slice(1) : line;
      if (!SHA_RE.test(sha)) continue;
      open.set(sha, (open.get(sha) ?? 0) + (closing ? -1 : 1));
    }
    return [...open].filter(([, n]) => n > 0).map(([sha]) => sha);
  }

  /** Starts an empty journal (after recovery handled {@link pending}). */
  reset(): void {
    this.closeFd();
    this.openSet.clear();
    this.rewrite();
  }

  /** Records that `sha256` is about to enter the store without a catalog reference. */
  begin(sha256: string): void {
    this.openSet.set(sha256, (this.openSet.get(sha256) ?? 0) + 1);
    if (this.lines >= ROTATE_AT) this.rewrite();
    this.write(`${sha256}\n`);
  }

  /** The caller no longer needs recovery for `sha256` (idempotent per matching begin). */
  end(sha256: string): void {
    const n = this.openSet.get(sha256);
    if (n === undefined) return;
    if (n <= 1) this.openSet.delete(sha256);
    else this.openSet.set(sha256, n - 1);
    this.write(`-${sha256}\n`);
  }

  /** Closes the file (a later write reopens it). */
  close(): void {
    this.closeFd();
  }

  private write(text: string): void {
    if (this.fd === null) this.fd = fs.openSync(this.path, 'a', 0o600);
    fs.writeSync(this.fd, text);
    this.lines++;
  }

  /** Replaces the file with only the open hashes (atomically: temp file + rename). */
  private rewrite(): void {
    const tmp = `${this.path}.new`;
    const keep = [...this.openSet.keys()];
    fs.writeFileSync(tmp, keep.map((s) => `${s}\n`).join(''), { mode: 0o600 });
    fs.renameSync(tmp, this.path);
    this.closeFd();
    this.lines = keep.length;
  }

  private closeFd(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
