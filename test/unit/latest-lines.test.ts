import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readLatestLines } from '../../src/client/latest-lines.js';

const a = 'a'.repeat(64);
const b = 'b'.repeat(64);

describe('readLatestLines', () => {
  it('reads lines split anywhere across chunks, names with spaces and non-ASCII', async () => {
    const text = `${a} dir/one two.txt\n${b} été/ü.json\n`;
    // Every split point, including inside a multi-byte character.
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const got = await readLatestLines(
        Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]),
      );
      expect([...got]).toEqual([
        ['dir/one two.txt', a],
        ['été/ü.json', b],
      ]);
    }
  });

  it('refuses a body cut short mid-line rather than taking it for the whole list', async () => {
    await expect(readLatestLines(Readable.from([`${a} x.txt\n${b} y.t`]))).rejects.toMatchObject({
      code: 'truncated',
    });
    expect((await readLatestLines(Readable.from([]))).size).toBe(0);
  });
});
