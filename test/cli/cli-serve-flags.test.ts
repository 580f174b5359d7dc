import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir } from '../helpers/server.js';

describe('cairn serve flags and environment variables', () => {
  it('--help names an environment variable for every flag and no client-only flag', async () => {
    const r = await runCli(['serve', '--help'], { env: { COLUMNS: '200' } });
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s*\n\s{20,}/g, ' '); // join continued descriptions
    const flags = [...help.matchAll(/^\s+(?:-\w, )?--([a-z-]+)\s+(.*)$/gm)].filter(
      ([, f]) => f !== 'help',
    );
    expect(flags.map(([, f]) => f)).toEqual(
      expect.arrayContaining(['data', 'public-url', 'max-share-ttl', 'mcp-allow-path', 'log']),
    );
    for (const [, flag, text] of flags)
      expect(text.replace(/\s+/g, ''), flag).toContain(
        `CAIRN_${flag.toUpperCase().replaceAll('-', '_')}`,
      );
    for (const client of ['--url', '--token', '--json', '--quiet'])
      expect(help).not.toContain(client);
  });

  it('CAIRN_PUBLIC_URL and CAIRN_MAX_SIZE reach the server', async () => {
    const server = await spawnServer(join(tempDir(), 'd'), [], {
      CAIRN_PUBLIC_URL: 'https://cairn.example.test',
      CAIRN_MAX_SIZE: '10B',
    });
    try {
      const env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
      const big = await runCli(['push', '-', '--name', 'big.txt', '--session', 's'], {
        env,
        input: 'x'.repeat(20),
      });
      expect(big.code).toBe(1);
      expect(big.stderr).toContain('10');
      expect(
        (await runCli(['push', '-', '--name', 'a.txt', '--session', 's'], { env, input: 'ok' }))
          .code,
      ).toBe(0);
      const share = await runCli(['share', 's/a.txt'], { env });
      expect(share.stdout).toContain('https://cairn.example.test/s/');
    } finally {
      await server.stop();
    }
  });
});

describe('cairn --version and completion', () => {
  it('--version and -V print what cairn version prints', async () => {
    const v = await runCli(['version']);
    expect(v.stdout).toMatch(/^cairn \d+\.\d+\.\d+ \(commit \S+, node v\d+/);
    expect((await runCli(['--version'])).stdout).toBe(v.stdout);
    expect((await runCli(['-V'])).stdout).toBe(v.stdout);
  });

  it('completion bash|zsh prints a script for that shell, which completes commands', async () => {
    const bash = await runCli(['completion', 'bash'], { env: { SHELL: '/bin/zsh' } });
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain(
      'complete -o bashdefault -o default -F _cairn_yargs_completions cairn',
    );
    const zsh = await runCli(['completion', 'zsh'], { env: { SHELL: '/bin/bash' } });
    expect(zsh.stdout).toContain('#compdef cairn');
    const words = await runCli(['--get-yargs-completions', 'cairn', 'se']);
    expect(words.stdout.split('\n')).toEqual(expect.arrayContaining(['serve', 'seal', 'sessions']));
  });
});
