import type { CommandModule } from 'yargs';
import { lsCommand } from './ls.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { rmCommand } from './rm.js';
import { sealCommand } from './seal.js';
import { serveCommand } from './serve.js';
import { sessionsCommand } from './sessions.js';
import { showCommand } from './show.js';
import { tokenCommand } from './token.js';
import { versionCommand } from './version.js';
import { mcpCommand } from './mcp.js';
import { shareCommand } from './share.js';
import { sharesCommand } from './shares.js';
import { unshareCommand } from './unshare.js';
import { pinCommand } from './pin.js';
import { unpinCommand } from './unpin.js';
import { gcCommand } from './gc.js';
import { fsckCommand } from './fsck.js';
import { backupCommand } from './backup.js';
import { restoreCommand } from './restore.js';
import { migrateCommand } from './migrate.js';
import { waitCommand } from './wait.js';
import { eventsCommand } from './events.js';
import { lineageCommand } from './lineage.js';
import { verifyCommand } from './verify.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';

/** Every CLI command module. */
export const commands = [
  serveCommand,
  pushCommand,
  pullCommand,
  lsCommand,
  sessionsCommand,
  showCommand,
  sealCommand,
  rmCommand,
  shareCommand,
  sharesCommand,
  unshareCommand,
  pinCommand,
  unpinCommand,
  gcCommand,
  fsckCommand,
  backupCommand,
  restoreCommand,
  migrateCommand,
  waitCommand,
  eventsCommand,
  lineageCommand,
  verifyCommand,
  exportCommand,
  importCommand,
  tokenCommand,
  mcpCommand,
  versionCommand,
] as unknown as CommandModule[];
