import { formatBytes } from '../lib/size.js';

/** A progress line for a transfer of many files: files, bytes, rate and time left. */
export interface TransferProgress {
  /** `files` more files are done (their bytes already counted through {@link bytes}). */
  filesDone(files: number): void;
  /** `n` more bytes went out. */
  bytes(n: number): void;
  /** Draws the final state and ends the line. */
  end(): void;
}

/**
 * A progress line on stderr, redrawn at most 10 times a second, when stderr is a terminal
 * (otherwise every call does nothing): `label  120/2000 files  1.2 MiB/20 MiB  3.4 MiB/s  ETA 6s`.
 */
export function transferProgress(
  label: string,
  totalFiles: number,
  totalBytes: number,
): TransferProgress {
  if (!process.stderr.isTTY) return { filesDone: () => {}, bytes: () => {}, end: () => {} };
  const start = Date.now();
  let files = 0;
  let sent = 0;
  let last = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const secs = Math.max((now - start) / 1000, 0.001);
    const rate = sent / secs;
    const left = rate > 0 ? Math.max(0, (totalBytes - sent) / rate) : NaN;
    const eta = Number.isFinite(left) ? ` ETA ${Math.ceil(left)}s` : '';
    process.stderr.write(
      `\r\x1b[K${label.slice(0, 30)}  ${files}/${totalFiles} files  ${formatBytes(sent)}/${formatBytes(totalBytes)}  ${formatBytes(rate)}/s${eta}`,
    );
  };
  return {
    filesDone: (n) => {
      files += n;
      draw(false);
    },
    bytes: (n) => {
      sent += n;
      draw(false);
    },
    end: () => {
      draw(true);
      process.stderr.write('\n');
    },
  };
}
