/** Display formatting: sizes, times, hashes. Pure functions. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[i]}`;
}

/** ISO time → `2025-01-31 14:02:11` in the viewer's time zone. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** ISO time → `3 min ago` / `in 2 d`. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  const s = Math.round((t - now) / 1000);
  const a = Math.abs(s);
  const [v, u] =
    a < 60
      ? [a, 's']
      : a < 3600
        ? [Math.round(a / 60), 'min']
        : a < 86400
          ? [Math.round(a / 3600), 'h']
          : [Math.round(a / 86400), 'd'];
  if (a < 5) return 'just now';
  return s < 0 ? `${v} ${u} ago` : `in ${v} ${u}`;
}

/** First 12 hex characters of a hash. */
export function shortHash(hex: string | null | undefined): string {
  return hex ? hex.slice(0, 12) : '';
}

/** `application/json; charset=utf-8` → `application/json`. */
export function baseType(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}
