import { describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.js';
import { pooledRandomBytes } from '../../src/lib/random-pool.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Decodes the 16 random characters back into 10 bytes (the inverse of the encoding). */
function decodeRandom(text: string): Buffer {
  let bits = 0n;
  for (const ch of text) bits = (bits << 5n) | BigInt(ALPHABET.indexOf(ch));
  const out = Buffer.alloc(10);
  for (let i = 9; i >= 0; i--) {
    out[i] = Number(bits & 255n);
    bits >>= 8n;
  }
  return out;
}

describe('newId', () => {
  it('is prefix, 10 time characters and 16 random ones, sorted by creation', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => newId('a', 1_700_000_000_000 + (i >> 4)));
    for (const id of ids) expect(id).toMatch(/^a_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('encodes the random part as the 80-bit big-endian number of its bytes', () => {
    // Within one millisecond the random part is incremented by one, so decoding two
    // consecutive ids must give numbers one apart, carries included.
    const t = 1_800_000_000_000;
    let prev = decodeRandom(newId('x', t).slice(12));
    for (let i = 0; i < 2000; i++) {
      const next = decodeRandom(newId('x', t).slice(12));
      const a = BigInt(`0x${prev.toString('hex')}`);
      const b = BigInt(`0x${next.toString('hex')}`);
      expect(b - a).toBe(1n);
      prev = next;
    }
  });
});

describe('pooledRandomBytes', () => {
  it('never repeats across pool refills and refuses large requests', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) seen.add(pooledRandomBytes(8).toString('hex'));
    expect(seen.size).toBe(3000);
    expect(() => pooledRandomBytes(257)).toThrow(RangeError);
  });
});
