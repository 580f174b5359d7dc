import { InvalidInputError } from './errors.js';
import { truncate } from './duration.js';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Parses `10MB`, `5GiB`, `512` (bytes) into a byte count; throws `invalid_size`. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^(\d{1,15})\s*([a-z]{1,3})?$/i.exec(text.trim());
  const unit = UNITS[(m?.[2] ?? 'b').toLowerCase()];
  if (!m || unit === undefined) {
    throw new InvalidInputError(
      'invalid_size',
      `${what} '${truncate(text)}' is not a size; use a number and a unit like 10MB or 5GiB`,
    );
  }
  return Number(m[1]) * unit;
}

/** Formats a byte count for people: 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
