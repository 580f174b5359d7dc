import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `n` (≤ 256) cryptographically random bytes, copied out of a pool refilled 4 KiB at a time:
 * the same bytes `randomBytes(n)` would give, without a native call per request id.
 */
export function pooledRandomBytes(n: number): Buffer {
  if (n > 256) throw new RangeError('pooledRandomBytes is for small ids (at most 256 bytes)');
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  // A copy, and the offset only moves forward: no bytes are handed out twice.
  const out = Buffer.from(pool.subarray(offset, offset + n));
  offset += n;
  return out;
}
