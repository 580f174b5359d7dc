import type { ArtifactRecord } from '../../core/types.js';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { formatBytes } from '../../lib/size.js';
import {
  CliError,
  EXIT,
  clientFor,
  isDash,
  metaText,
  output,
  table,
  type GlobalArgs,
} from '../context.js';
import { durationFlag, parseMetaArgs, progressBar } from '../util.js';

interface PushArgs extends GlobalArgs {
  files: string[];
  session: string;
  meta: string[];
  ttl?: string;
  name?: string;
  type?: string;
  from: string[];
}

/** `cairn push`: files, directories (recursively) or `-` for stdin. */
export const pushCommand: CommandModule<GlobalArgs, PushArgs> = {
  command: 'push [files..]',
  describe: 'Push files, directories or - (stdin) into a session',
  builder: (y) =>
    y
      .positional('files', {
        type: 'string',
        array: true,
        describe: 'Files, directories, or - for stdin',
      })
      .option('session', {
        alias: 's',
        type: 'string',
        demandOption: true,
        describe: 'Session id, e.g. run_42',
      })
      .option('meta', {
        alias: 'm',
        type: 'string',
        array: true,
        default: [],
        describe: 'Metadata key=value (several allowed)',
      })
      .option('ttl', {
        type: 'string',
        describe: 'Time to live, e.g. 7d',
        coerce: durationFlag('--ttl'),
      })
      .option('name', {
        alias: 'n',
        type: 'string',
        describe: 'Artifact name (one file) or name prefix (directory)',
      })
      .option('type', { type: 'string', describe: 'Content type (default: from the name)' })
      .option('from', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Id of an input artifact (lineage; several allowed)',
      }) as unknown as Argv<PushArgs>,
  handler: async (args) => {
    // `--meta a=b c=d file` is greedy in yargs: give words without '=' back to the file list.
    const files = [...(args.files ?? []).map(String), ...args.meta.filter((m) => !m.includes('='))];
    if (files.length === 0)
      throw new CliError('name at least one file, directory, or - for stdin', EXIT.usage);
    const meta = parseMetaArgs(args.meta.filter((m) => m.includes('=')));
    const items = expand(files, args.name);
    const client = clientFor(args);
    const results: (ArtifactRecord & { deduplicated: boolean })[] = [];
    for (const item of items) {
      const opts = {
        meta,
        ttl: args.ttl,
        contentType: args.type,
        derivedFrom: args.from.map(String),
      };
      if (item.path === '-') {
        results.push(await client.push(args.session, item.name, process.stdin, opts));
      } else {
        const size = statSync(item.path).size;
        const big = size > 8 * 1024 * 1024 && process.stderr.isTTY;
        // Hashing a large file takes a while before the first byte is sent: show it too.
        const hashing = big ? progressBar(`hashing ${item.name}`, size) : undefined;
        let bar: ReturnType<typeof progressBar> | undefined;
        const onProgress = (sent: number) => {
          if (!big) return;
          if (!bar) {
            hashing?.done();
            bar = progressBar(item.name, size);
          }
          bar(sent);
        };
        results.push(
          await client.pushFile(args.session, item.name, item.path, {
            ...opts,
            onHashProgress: hashing,
            onProgress,
          }),
        );
        if (!bar) hashing?.done();
        bar?.done();
      }
    }
    output(
      args,
      results.length === 1 ? results[0] : results,
      () =>
        table(
          ['ID', 'NAME', 'V', 'SIZE', 'SHA256', 'META'],
          results.map((r) => [
            r.id,
            r.name,
            r.version,
            formatBytes(r.size),
            `${r.sha256.slice(0, 12)}${r.deduplicated ? ' (dedup)' : ''}`,
            metaText(r.meta),
          ]),
        ),
      () => results.map((r) => r.id),
    );
  },
};

/** Files to push with their artifact names. */
function expand(files: string[], name: string | undefined): { path: string; name: string }[] {
  const out: { path: string; name: string }[] = [];
  for (const f of files) {
    if (isDash(f)) {
      if (!name) throw new CliError('pushing stdin (-) needs --name', EXIT.usage);
      out.push({ path: '-', name });
      continue;
    }
    let st;
    try {
      st = statSync(f);
    } catch {
      throw new CliError(`cannot read '${f}': no such file or directory`, EXIT.usage);
    }
    if (st.isDirectory()) {
      const before = out.length;
      for (const p of walk(f, new Set([realpathSync(f)]))) {
        const rel = relative(f, p).split(sep).join('/');
        out.push({ path: p, name: name ? `${name.replace(/\/+$/, '')}/${rel}` : rel });
      }
      if (out.length === before) throw new CliError(`'${f}' holds no files to push`, EXIT.usage);
    } else out.push({ path: f, name: name ?? basename(f) });
  }
  if (name && out.length > 1 && !files.some((f) => !isDash(f) && statSync(f).isDirectory())) {
    throw new CliError('--name names one file; push several files without --name', EXIT.usage);
  }
  return out;
}

/**
 * Files under `dir`, sorted, symlinks followed (as `cp -rL` would) except into a directory
 * already on the way down (`seen` holds their real paths: a link to a parent is no loop).
 */
function* walk(dir: string, seen: Set<string>): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const p = join(dir, e.name);
    let st: { isDirectory(): boolean; isFile(): boolean };
    try {
      st = e.isSymbolicLink() ? statSync(p) : e;
    } catch {
      // As before symlinks were followed: the rest of the directory still goes.
      process.stderr.write(`cairn: skipping '${p}': a symbolic link to nothing\n`);
      continue;
    }
    if (st.isDirectory()) {
      const real = realpathSync(p);
      if (seen.has(real)) continue;
      yield* walk(p, new Set([...seen, real]));
    } else if (st.isFile()) yield p;
  }
}
