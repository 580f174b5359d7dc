import type { CommandModule } from 'yargs';
import { formatBytes } from '../../lib/size.js';
import { clientFor, output, type GlobalArgs } from '../context.js';

interface GcArgs extends GlobalArgs {
  'dry-run': boolean;
}

/**
 * `cairn gc [--dry-run]` (admin): removes everything expired and the bytes nothing references
 * any more; with --dry-run only reports it. Bytes count dedupe: a blob another artifact still
 * uses frees nothing.
 */
export const gcCommand: CommandModule<GlobalArgs, GcArgs> = {
  command: 'gc',
  describe: 'Remove expired sessions/artifacts and unreferenced bytes now (--dry-run: report only)',
  builder: (y) =>
    y.option('dry-run', {
      type: 'boolean',
      default: false,
      describe: 'Only print what would go and how many bytes that frees',
    }),
  handler: async (args) => {
    const r = await clientFor(args).gc({ dryRun: args['dry-run'] });
    output(args, r, () => {
      const verb = r.dry_run ? 'would remove' : 'removed';
      const lines = [
        `${verb} ${r.sessions_expired} expired session(s), ${r.artifacts_expired} artifact(s)`,
        `${r.dry_run ? 'would free' : 'freed'} ${r.bytes_freed} bytes (${formatBytes(r.bytes_freed)}) in ${r.blobs_freed} blob(s)`,
      ];
      // Older servers do not report orphans.
      if (r.orphans_freed)
        lines.push(
          `${r.dry_run ? 'would remove' : 'removed'} ${r.orphans_freed} orphan blob(s) of pushes that died (${formatBytes(r.orphan_bytes_freed ?? 0)})`,
        );
      for (const id of r.sessions) lines.push(`  session ${id}`);
      return lines.join('\n');
    });
  },
};
