import type { CommandModule } from 'yargs';
import { versionInfo } from '../../version.js';
import { output, type GlobalArgs } from '../context.js';

/** `cairn version`: version, commit and the Node.js inside. */
export const versionCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'version',
  describe: 'Print the version, commit and Node.js version',
  handler: (args) => {
    const v = versionInfo();
    output(args, v, () => `cairn ${v.version} (commit ${v.commit}, node ${v.node})`);
  },
};
