import type { CommandModule } from 'yargs';
import type { FsckReport } from '../../core/fsck-service.js';
import { formatBytes } from '../../lib/size.js';
import { CliError, EXIT, clientFor, output, type GlobalArgs } from '../context.js';

interface FsckArgs extends GlobalArgs {
  repair: boolean;
}

/**
 * `cairn fsck [--repair]` (admin): asks the running server to rehash every blob and check the
 * catalog against the blobs and reference counts. Exit 0 when nothing is left wrong, 1 when
 * problems remain (a corrupt or missing referenced blob: restore it from a backup).
 */
export const fsckCommand: CommandModule<GlobalArgs, FsckArgs> = {
  command: 'fsck',
  describe: 'Check every blob and catalog row (--repair fixes counts and removes orphans)',
  builder: (y) =>
    y.option('repair', {
      type: 'boolean',
      default: false,
      describe: 'Fix what is safe: counts, latest flags, unreferenced bytes',
    }),
  handler: async (args) => {
    const r = await clientFor(args).json<FsckReport>(
      'POST',
      `/v1/fsck${args.repair ? '?repair=true' : ''}`,
    );
    output(args, r, () => {
      const lines = [
        `checked ${r.blobs_checked} blob(s), ${formatBytes(r.bytes_hashed)} rehashed, ${r.blob_rows} catalog blob row(s)`,
      ];
      for (const p of r.problems)
        lines.push(`  ${p.repaired ? 'repaired' : 'PROBLEM '} ${p.kind} ${p.subject}: ${p.detail}`);
      if (r.problems_total > r.problems.length)
        lines.push(`  … and ${r.problems_total - r.problems.length} more`);
      lines.push(
        r.ok
          ? r.problems_total
            ? `clean after repairing ${r.problems_total} problem(s)`
            : 'clean: no problems found'
          : `${r.unrepaired} problem(s) left${r.repair ? '' : '; run cairn fsck --repair to fix what is safe'}`,
      );
      return lines.join('\n');
    });
    if (!r.ok) throw new CliError(`fsck left ${r.unrepaired} problem(s) unrepaired`, EXIT.error);
  },
};
