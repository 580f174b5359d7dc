import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// Progress is drawn only on a terminal: util-linux `script` gives the CLI a pseudo-terminal,
// and what it drew is read back from the screen (no timing is asserted).

let server: ServerProcess;
let work: string;

beforeAll(async () => {
  work = tempDir();
  server = await spawnServer(join(work, 'data'));
  const big = Buffer.alloc(12 << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  writeFileSync(join(work, 'big.bin'), big);
});
afterAll(async () => server.stop());

function onTerminal(args: string): { code: number | null; screen: string } {
  const r = spawnSync('script', ['-qec', `node ${CLI} ${args}`, '/dev/null'], {
    cwd: work,
    env: { ...process.env, CAIRN_URL: server.url, CAIRN_TOKEN: server.token },
    input: '',
    encoding: 'utf8',
  });
  return { code: r.status, screen: r.stdout };
}

/** The last state of each redrawn line (what the user is left looking at). */
const finalLines = (screen: string) =>
  screen.split('\n').map(
    (l) =>
      l
        .split('\r')
        .filter((x) => x.trim())
        .pop() ?? '',
  );

describe('progress on a terminal: bytes, rate and time left', () => {
  it('push: hashing first, then the upload; pull: the download', () => {
    const push = onTerminal('push big.bin --session prog');
    expect(push.code).toBe(0);
    const lines = finalLines(push.screen);
    expect(
      lines.some((l) =>
        /^hashing big\.bin \[#{25}\] 100% 12(\.0)? MiB\/12(\.0)? MiB [\d.]+ \w+\/s in \d+s/.test(l),
      ),
      push.screen,
    ).toBe(true);
    expect(
      lines.some((l) =>
        /^big\.bin \[#{25}\] 100% 12(\.0)? MiB\/12(\.0)? MiB [\d.]+ \w+\/s in \d+s/.test(l),
      ),
      push.screen,
    ).toBe(true);
    const pull = onTerminal('pull prog/big.bin -o copy.bin');
    expect(pull.code).toBe(0);
    expect(
      finalLines(pull.screen).some((l) => /^big\.bin \[#{25}\] 100% .* in \d+s/.test(l)),
      pull.screen,
    ).toBe(true);
    expect(readFileSync(join(work, 'copy.bin')).equals(readFileSync(join(work, 'big.bin')))).toBe(
      true,
    );
  });

  it('a push of bytes the server has: only the hashing bar', () => {
    const again = onTerminal('push big.bin --session prog2');
    expect(again.code).toBe(0);
    expect(again.screen).toContain('hashing big.bin');
    expect(again.screen).toContain('(dedup)');
    expect(finalLines(again.screen).some((l) => /^big\.bin \[/.test(l))).toBe(false);
  });

  it('backup: bytes received and the rate', () => {
    const r = onTerminal(`backup ${join(work, 'bk')}`);
    expect(r.code).toBe(0);
    expect(
      finalLines(r.screen).some((l) => /^backup \d+(\.\d+)? [KM]iB [\d.]+ \w+\/s \d+s/.test(l)),
      r.screen,
    ).toBe(true);
  });

  it('off a terminal: nothing drawn', () => {
    const r = spawnSync(process.execPath, [CLI, 'push', 'big.bin', '--session', 'prog3'], {
      cwd: work,
      env: { ...process.env, CAIRN_URL: server.url, CAIRN_TOKEN: server.token },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});
