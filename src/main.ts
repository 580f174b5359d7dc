import { runCli } from './cli/cli.js';

// A reader that stops early (`cairn ls | head -1`) closes the pipe: end quietly with exit 0, as
// gh does, instead of an EPIPE stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// The only thing main does: hand argv to the CLI and exit with its code.
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cairn: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
