import type { CommandModule } from 'yargs';
import { clientFor, output, table, when, type GlobalArgs } from '../context.js';

interface TokenArgs extends GlobalArgs {
  scope?: string;
  name?: string;
  sessions?: string;
  id?: string;
  artifacta?: boolean;
}

/** `cairn token create|ls|revoke`. */
export const tokenCommand: CommandModule<GlobalArgs, TokenArgs> = {
  command: 'token',
  describe: 'Manage API tokens (admin): create --scope S, ls, revoke ID',
  builder: (y) =>
    y
      .command<TokenArgs>({
        command: 'create',
        describe: 'Create a token; prints its secret once',
        builder: (b) =>
          b
            .option('scope', { choices: ['read', 'write', 'admin'], demandOption: true })
            .option('name', { type: 'string' })
            .option('sessions', {
              type: 'string',
              describe:
                'Only see and write sessions matching this glob, e.g. run_* (omit: every session)',
            })
            .option('artifacta', {
              type: 'boolean',
              describe: "An ak_live_ key for Artifacta's clients (see --artifacta-listen)",
            }),
        handler: async (args) => {
          const t = await clientFor(args).createToken(String(args.scope), {
            name: args.name,
            sessions: args.sessions,
            ...(args.artifacta ? { artifacta: true } : {}),
          });
          output(
            args,
            t,
            () => `${t.token}\n(id ${t.id}, scope ${t.scope}; shown once, store it now)`,
          );
        },
      })
      .command<TokenArgs>({
        command: 'ls',
        describe: 'List tokens',
        handler: async (args) => {
          const items = await clientFor(args).tokens();
          output(
            args,
            items,
            () =>
              table(
                ['ID', 'NAME', 'SCOPE', 'SESSIONS', 'CREATED', 'LAST USED'],
                items.map((t) => [
                  t.id,
                  t.name,
                  t.scope,
                  t.sessions ?? '*',
                  when(t.created_at),
                  when(t.last_used_at),
                ]),
              ),
            () => items.map((t) => t.id),
          );
        },
      })
      .command<TokenArgs>({
        command: 'revoke <id>',
        describe: 'Revoke a token',
        handler: async (args) => {
          await clientFor(args).revokeToken(String(args.id));
          output(args, { id: args.id, revoked: true }, () => `revoked ${args.id}`);
        },
      })
      .demandCommand(1, 'name an action: create, ls or revoke'),
  handler: () => undefined,
};
