import type { CommandModule } from 'yargs';
import { lineage } from '../../client/pipeline-client.js';
import type { LineageNode } from '../../core/lineage.js';
import { clientFor, output, type GlobalArgs } from '../context.js';

interface LineageArgs extends GlobalArgs {
  id: string;
  depth?: number;
}

/** `cairn lineage ID [--depth N]`: what an artifact came from and what came from it, as trees. */
export const lineageCommand: CommandModule<GlobalArgs, LineageArgs> = {
  command: 'lineage <id>',
  describe: 'Show what an artifact was derived from and what was derived from it',
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'Artifact id (a_…)' })
      .option('depth', {
        type: 'number',
        describe: 'Levels to follow each way (1-50, default 10)',
      }),
  handler: async (args) => {
    const l = await lineage(clientFor(args), args.id, args.depth);
    output(args, l, () => {
      const a = l.artifact;
      return [
        `${a.session}/${a.name} v${a.version}  ${a.id}`,
        'derived from:',
        ...drawTree(l.upstream),
        'used by:',
        ...drawTree(l.downstream),
      ].join('\n');
    });
  },
};

/** Draws nodes as an indented tree with box-drawing branches. */
export function drawTree(nodes: LineageNode[], prefix = ''): string[] {
  if (nodes.length === 0 && prefix === '') return ['  (none)'];
  const lines: string[] = [];
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    lines.push(`${prefix}${last ? '└── ' : '├── '}${label(n)}`);
    lines.push(...drawTree(n.next, `${prefix}${last ? '    ' : '│   '}`));
  });
  return lines;
}

function label(n: LineageNode): string {
  if (n.missing) return `${n.id} (not here: deleted, expired or on another server)`;
  const base = `${n.session}/${n.name} v${n.version}  ${n.id}`;
  return base + (n.repeated ? ' (shown above)' : '') + (n.truncated ? ' (…deeper)' : '');
}
