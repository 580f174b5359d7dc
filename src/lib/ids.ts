import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

/**
 * A ULID-style id with a prefix, e.g. `a_01JD3M…`: 48-bit millisecond time then 80 random bits,
 * Crockford base32. Ids made by one process sort by creation time, also within a millisecond
 * (the random part is incremented, as in monotonic ULID).
 */
export function newId(prefix: string, now = Date.now()): string {
  let rand: Uint8Array;
  if (now <= lastTime) {
    rand = increment(lastRandom);
    now = lastTime;
  } else {
    rand = randomBytes(10);
  }
  lastTime = now;
  lastRandom = rand;
  return `${prefix}_${encodeTime(now)}${encodeRandom(rand)}`;
}

function encodeTime(t: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = ALPHABET[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return out;
}

function increment(bytes: Uint8Array): Uint8Array {
  const next = Uint8Array.from(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 255) {
      next[i]++;
      return next;
    }
    next[i] = 0;
  }
  return next;
}
