import { readFileSync, statSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { exportSession, serverKeys } from '../../client/pipeline-client.js';
import { sealKeyId } from '../../core/signer.js';
import { verifyExport, type VerifyReport } from '../../core/verify-export.js';
import { formatBytes } from '../../lib/size.js';
import { CliError, EXIT, clientFor, output, type GlobalArgs } from '../context.js';
import { openLocalFile } from '../util.js';

interface VerifyArgs extends GlobalArgs {
  target: string;
  key: string[];
}

/**
 * `cairn verify SESSION | FILE.tar [--key PUBLIC.pem ...]`: checks a sealed session end to end
 * — the Ed25519 signature over the digest, the digest recomputed from the manifest, and every
 * byte of every file rehashed — and prints each mismatch. A SESSION is read from the server
 * (its export stream); a path ending in .tar (or an existing file) is read locally. With --key
 * the signing key must be one of those given. Exits 0 when everything matches, 1 otherwise.
 */
export const verifyCommand: CommandModule<GlobalArgs, VerifyArgs> = {
  command: 'verify <target>',
  describe: 'Verify a sealed session or export tar: signature, digest and every byte',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'SESSION or FILE.tar' })
      .option('key', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Trusted public key (PEM file); the seal must be signed by one of them',
      }),
  handler: async (args) => {
    const trusted = args.key.map((f) => readKeyId(f));
    // A directory of that name (what `cairn pull SESSION` makes) is not an export; a file, a
    // pipe (`<(…)`) or a device is read.
    const found = statSync(args.target, { throwIfNoEntry: false });
    const local = args.target.endsWith('.tar') || (found !== undefined && !found.isDirectory());
    let serverKeyIds: string[] = [];
    let source;
    if (local) source = await openLocalFile(args.target);
    else {
      const client = clientFor(args);
      source = await exportSession(client, args.target);
      serverKeyIds = (await serverKeys(client)).map((k) => k.id);
    }
    const r = await verifyExport(source, { trustedKeyIds: trusted.length ? trusted : undefined });
    output(args, r, () => describe(r, serverKeyIds));
    if (!r.ok) throw new CliError(`verification of ${args.target} failed`, EXIT.error);
  },
};

function describe(r: VerifyReport, serverKeyIds: string[]): string {
  const lines = [`session   ${r.session ?? '?'} (${r.sealed ? 'sealed' : 'open'})`];
  if (r.digest) lines.push(`digest    ${r.digest} (recomputed from the manifest)`);
  if (r.key_id) {
    const whose = serverKeyIds.length
      ? serverKeyIds.includes(r.key_id)
        ? "this server's key"
        : 'a key from another server (imported)'
      : 'key carried by the export';
    lines.push(`signed by ${r.key_id} (${whose})`);
  }
  lines.push(`files     ${r.files} rehashed, ${formatBytes(r.bytes)}`);
  if (r.ok) lines.push('OK: signature, digest and every byte match');
  else for (const p of r.problems) lines.push(`MISMATCH  ${p.what}: ${p.message}`);
  return lines.join('\n');
}

function readKeyId(file: string): string {
  try {
    return sealKeyId(readFileSync(file, 'utf8'));
  } catch {
    throw new CliError(`${file} is not a readable PEM public key`, EXIT.usage);
  }
}
