import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CairnApiError, CairnClient } from '../client/cairn-client.js';
import type { ArtifactRecord } from '../core/types.js';
import { formatBytes } from '../lib/size.js';
import { CairnError } from '../lib/errors.js';
import { formatItems } from './format-template.js';
import { terminalSafe } from './terminal-text.js';

/** How a lone `-` argument (stdin / stdout) reaches commands; yargs would drop it. */
export const DASH = '\u0000-';

/** True for a `-` argument (stdin or stdout). */
export function isDash(arg: string | undefined): boolean {
  return arg === DASH || arg === '-';
}

/** Global options every command gets. */
export interface GlobalArgs {
  url: string;
  token?: string;
  json: boolean;
  /** `-q`: listings and pushes print only ids, one a line. */
  quiet?: boolean;
  /** `--format TEMPLATE`: one line per item (see formatItems). */
  format?: string;
}

/** Exit codes (DESIGN §3). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  auth: 5,
  timeout: 6,
} as const;

/** A CLI failure with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}

/**
 * The client for a command. The token is `--token`, else `CAIRN_TOKEN`, else the admin token
 * file of a local server (`$CAIRN_DATA/admin.token`, default `./cairn-data/admin.token`). With
 * none of them, nothing is sent as a token, and a 401 says where one was looked for and what
 * to set.
 */
export function clientFor(args: GlobalArgs): CairnClient {
  const tokenFile = join(resolve(process.env.CAIRN_DATA || './cairn-data'), 'admin.token');
  return new CairnClient({
    url: args.url,
    token: args.token || process.env.CAIRN_TOKEN || readToken(tokenFile),
    noTokenHint:
      `no token: --token was not given, CAIRN_TOKEN is not set and ${tokenFile} does not ` +
      "exist (it does only on the server's machine, in the directory it was started from). " +
      'Set CAIRN_TOKEN=<token> or pass --token <token>; an admin makes one with ' +
      '`cairn token create --scope write`',
  });
}

function readToken(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}

/** Exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof CairnApiError) {
    if (err.status === 404 || err.status === 410) return EXIT.notFound;
    if (err.status === 409) return EXIT.conflict;
    if (err.status === 401 || err.status === 403) return EXIT.auth;
    return EXIT.error;
  }
  // A local refusal (a command that works on a data dir itself: restore, migrate).
  if (err instanceof CairnError && err.status === 409) return EXIT.conflict;
  return EXIT.error;
}

/**
 * Prints `value` as JSON (with --json), one templated line per item (with --format), only the ids `ids` gives (with -q; one a line, nothing
 * for none), or via `human`. A command without `ids` prints `human` under -q too.
 */
export function output(
  args: GlobalArgs,
  value: unknown,
  human: () => string,
  ids?: () => string[],
): void {
  if (args.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (args.format !== undefined)
    process.stdout.write(
      asUsageError(() =>
        formatItems(args.format as string, value, process.stdout.isTTY ? terminalSafe : undefined),
      ),
    );
  else if (args.quiet && ids)
    process.stdout.write(
      ids()
        .map((id) => `${id}\n`)
        .join(''),
    );
  else process.stdout.write(`${human()}\n`);
}

/** Aligned text table; control characters in cells are shown escaped (see terminalSafe). */
export function table(headers: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows.map((r) => r.map((c) => terminalSafe(String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '))
    .join('\n');
}

/** `key=value` chips for a table cell, control characters escaped (see terminalSafe). */
export function metaText(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([k, v]) => `${k}=${terminalSafe(v)}`)
    .join(' ');
}

/** Short local time for tables: 2026-11-24 14:03:05. */
export function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 19) : '-';
}

/** The artifact table of `ls` and `show` (the SESSION column only where it varies). */
export function artifactTable(items: ArtifactRecord[], opts: { withSession: boolean }): string {
  const headers = [
    'ID',
    ...(opts.withSession ? ['SESSION'] : []),
    'NAME',
    'V',
    'SIZE',
    'TYPE',
    'CREATED',
    'META',
  ];
  return table(
    headers,
    items.map((a) => [
      a.id,
      ...(opts.withSession ? [a.session] : []),
      a.name,
      a.version,
      formatBytes(a.size),
      a.content_type,
      when(a.created_at),
      metaText(a.meta),
    ]),
  );
}

/** Runs `fn`; what it throws becomes a usage error (exit 2). */
function asUsageError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
}
