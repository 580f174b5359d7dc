import { runCli } from './cli/cli.js';

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
