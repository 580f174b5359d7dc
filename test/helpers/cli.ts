import { spawn } from 'node:child_process';
import { testCatalogUrl } from './engines/pg.js';
import { CLI } from './server.js';

/** What a CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI (`node bin/cairn.js …`) as a child process. With
 * CAIRN_TEST_CATALOG=postgres, `serve --data DIR` (without `--catalog`) gets the data dir's
 * database on the run's PostgreSQL (see testCatalogUrl).
 */
export async function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string | Buffer } = {},
): Promise<CliResult> {
  const data = args.indexOf('--data');
  const catalog =
    args[0] === 'serve' && data > 0 && !args.includes('--catalog') && !opts.env?.CAIRN_CATALOG
      ? await testCatalogUrl(args[data + 1])
      : undefined;
  const argv = catalog ? [args[0], '--catalog', catalog, ...args.slice(1)] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], {
      cwd: opts.cwd,
      env: { ...process.env, CAIRN_TOKEN: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input);
  });
}
