import { pooledRandomBytes } from './random-pool.js';

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
    rand = pooledRandomBytes(10);
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

/** 80 bits as 16 base32 characters, most significant first (5 bytes give 8 characters). */
function encodeRandom(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 10; i += 5) {
    // 40 bits fit a double exactly: high byte times 2^32 plus the low 32 bits.
    let v =
      bytes[i] * 2 ** 32 +
      ((bytes[i + 1] << 24) >>> 0) +
      (bytes[i + 2] << 16) +
      (bytes[i + 3] << 8) +
      bytes[i + 4];
    let chunk = '';
    for (let j = 0; j < 8; j++) {
      chunk = ALPHABET[v % 32] + chunk;
      v = Math.floor(v / 32);
    }
    out += chunk;
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
