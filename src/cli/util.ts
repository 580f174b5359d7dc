import { CliError, EXIT } from './context.js';
import { formatBytes } from '../lib/size.js';

/** `k=v` words to metadata; exits with a usage error on a malformed pair. */
export function parseMetaArgs(pairs: string[]): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new CliError(`--meta '${p}' must look like key=value`, EXIT.usage);
    meta[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return meta;
}

/** A progress callback drawing a one-line bar on stderr. */
export function progressBar(label: string, total: number): (done: number) => void {
  let last = 0;
  return (done) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 100;
    const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
    process.stderr.write(
      `\r${label.slice(0, 30)} [${bar}] ${pct}% ${formatBytes(done)}/${formatBytes(total)}`,
    );
  };
}
