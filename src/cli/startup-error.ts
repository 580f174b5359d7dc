import { CliError, EXIT } from './context.js';

/** Where `cairn serve` was told to listen and keep its data, for start-up messages. */
export interface ServeTarget {
  dataDir: string;
  host: string;
  port: number;
}

/**
 * The one-line error for a failure while `cairn serve` starts: what is wrong and what to do,
 * instead of Node's text (`listen EADDRINUSE`, `EEXIST: file already exists, mkdir …`). An
 * error without a system code (a CairnError, a usage error) is returned as it is.
 */
export function startupError(err: unknown, at: ServeTarget): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof CliError || typeof e?.code !== 'string') return err;
  const where = `${at.host}:${at.port}`;
  const path = e.path ?? at.dataDir;
  switch (e.code) {
    case 'EADDRINUSE':
      return new CliError(
        `${where} is already in use (another cairn serve?): stop that one, or pick another port ` +
          'with --port P (CAIRN_PORT; 0 takes any free port)',
      );
    case 'EADDRNOTAVAIL':
      return new CliError(
        `${at.host} is not an address of this machine: use --host 127.0.0.1 (this machine only) ` +
          'or 0.0.0.0 (every interface)',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(`--host '${at.host}' is not a known host name or address`, EXIT.usage);
    case 'EEXIST':
    case 'ENOTDIR':
      return new CliError(
        `cannot use ${at.dataDir} as the data directory: ${e.code === 'EEXIST' ? '' : 'part of '}` +
          `${path} is a file; give --data ` +
          '(CAIRN_DATA) a directory, new or one cairn serve made',
      );
    case 'EACCES':
    case 'EPERM':
      return e.syscall === 'listen' || e.syscall === 'bind'
        ? new CliError(
            `no permission to listen on ${where}: ports below 1024 need privileges; use --port ` +
              '7070 (or any above 1023) and put a reverse proxy in front',
          )
        : new CliError(
            `no permission to write ${path}: run as a user who may, or give --data (CAIRN_DATA) ` +
              'a directory of yours',
          );
    case 'EROFS':
      return new CliError(
        `${path} is on a read-only file system: give --data a writable directory`,
      );
    case 'ENOSPC':
      return new CliError(
        `no space left on the device of ${path}: free some, or use another --data`,
      );
    default:
      return err;
  }
}
