import type { HostileCase } from './hostile-case.js';

/** One tar entry as written by {@link tarBytes}: a header, then `body` padded to 512 bytes. */
export interface RawEntry {
  name: string;
  body?: string | Buffer;
  /** Typeflag character: '0' file (default), '1' hard link, '2' symlink, 'x' PAX, 'L' GNU long name… */
  type?: string;
  /** Size written in the header when it should lie about the body. */
  size?: number;
  linkname?: string;
  /** PAX records written in an 'x' header before this entry. */
  pax?: Record<string, string>;
}

/** A 512-byte ustar header; the checksum is computed unless `badChecksum`. */
function header(e: RawEntry, size: number, badChecksum = false): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'utf8');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(e.name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put(e.type ?? '0', 156, 1);
  put(e.linkname ?? '', 157, 100);
  put('ustar\u000000', 257, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${octal(sum + (badChecksum ? 1 : 0), 7)} `, 148, 8);
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** PAX extended header records (`LEN key=value\n`, LEN counting itself). */
export function paxRecords(pax: Record<string, string>): Buffer {
  const out: Buffer[] = [];
  for (const [k, v] of Object.entries(pax)) {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) > len) len++;
    out.push(Buffer.from(`${len}${rest}`));
  }
  return Buffer.concat(out);
}

/**
 * A tar written byte by byte, so it can be wrong in ways tar libraries refuse to write: sizes
 * that lie, any typeflag, PAX records of any size, no end blocks unless `end`.
 */
export function tarBytes(entries: RawEntry[], opts: { end?: boolean; badChecksum?: boolean } = {}) {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const records = paxRecords(e.pax);
      parts.push(header({ name: 'PaxHeader', type: 'x' }, records.length), pad(records));
    }
    const body = Buffer.from(e.body ?? '');
    parts.push(header(e, e.size ?? body.length, opts.badChecksum), pad(body));
  }
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const tarType = { 'Content-Type': 'application/x-tar' };
const good: RawEntry = { name: 'good.txt', body: 'fine' };
const large: RawEntry = { name: 'large.bin', body: Buffer.alloc(200_000, 7) };

/**
 * Hostile batch pushes (`POST /v1/sessions/{sid}/batch`), each into its own `hb_*` session
 * that must stay empty: a bad tar or a bad entry after good ones refuses the whole batch.
 */
export function hostileBatches(): HostileCase[] {
  const cases: [string, Buffer, number][] = [
    [
      'type with CRLF',
      tarBytes([good, { ...good, name: 'h', pax: { 'CAIRN.type': 'text/html\r\nX-Evil: 1' } }]),
      400,
    ],
    ['type not a media type', tarBytes([{ ...good, pax: { 'CAIRN.type': 'nonsense' } }]), 400],
    [
      'type over 255 chars',
      tarBytes([{ ...good, pax: { 'CAIRN.type': `text/${'a'.repeat(300)}` } }]),
      400,
    ],
    [
      'cut inside a small entry',
      tarBytes([good, { name: 's', body: 'x'.repeat(2000) }]).subarray(0, 512 * 3 + 700),
      400,
    ],
    ['cut inside a large entry', tarBytes([good, large]).subarray(0, 100_000), 400],
    ['cut inside a header', tarBytes([good, large]).subarray(0, 1024 + 100), 400],
    [
      'size larger than the body',
      tarBytes([{ name: 'lie', body: 'x', size: 5000 }], { end: false }),
      400,
    ],
    ['PAX size past the end', tarBytes([{ ...good, pax: { size: '9'.repeat(30) } }]), 400],
    ['PAX size negative', tarBytes([{ ...good, pax: { size: '-5' } }]), 400],
    [
      'PAX path with ..',
      tarBytes([good, { ...good, name: 'x', pax: { path: '../../escape' } }]),
      400,
    ],
    ['PAX path absolute', tarBytes([{ ...good, pax: { path: '/etc/escape' } }]), 400],
    ['PAX path with NUL', tarBytes([{ ...good, pax: { path: 'a\u0000b' } }]), 400],
    [
      'PAX path twice the same name',
      tarBytes([good, { ...good, name: 'other', pax: { path: 'good.txt' } }]),
      400,
    ],
    ['PAX path over 1024 bytes', tarBytes([{ ...good, pax: { path: 'n'.repeat(2000) } }]), 400],
    [
      'PAX record of 5 MiB',
      tarBytes([{ ...good, pax: { comment: 'c'.repeat(5 * 1024 * 1024) } }]),
      400,
    ],
    [
      'PAX global path for every entry',
      tarBytes([
        { name: 'g', type: 'g', body: paxRecords({ path: 'same' }) },
        // tar-stream applies a global header to entries with a PAX header of their own.
        { ...good, pax: { 'CAIRN.meta.k': 'v' } },
        { ...good, name: 'b', pax: { 'CAIRN.meta.k': 'v' } },
      ]),
      400,
    ],
    [
      'GNU long name with ..',
      tarBytes([{ name: '././@LongLink', type: 'L', body: '../escape\0' }, good]),
      400,
    ],
    ['hard link', tarBytes([good, { name: 'h', type: '1', linkname: 'good.txt' }]), 400],
    ['symlink', tarBytes([good, { name: 's', type: '2', linkname: '/etc/passwd' }]), 400],
    ['character device', tarBytes([{ name: 'c', type: '3' }]), 400],
    ['fifo', tarBytes([{ name: 'f', type: '6' }]), 400],
    ['GNU sparse file', tarBytes([{ name: 'sp', type: 'S', body: 'x' }]), 400],
    ['bad header checksum', tarBytes([good], { badChecksum: true }), 400],
    [
      '1,001 tiny entries',
      tarBytes(Array.from({ length: 1001 }, (_, i) => ({ name: `e${i}` }))),
      400,
    ],
    ['only directories', tarBytes([{ name: 'd/', type: '5' }]), 400],
    ['zero blocks only', Buffer.alloc(10240), 400],
    ['not a tar', Buffer.from('hello, this is not a tar'), 400],
    [
      'wrong announced digest',
      tarBytes([{ ...good, pax: { 'CAIRN.sha256': '0'.repeat(64) } }]),
      400,
    ],
    ['bad metadata key', tarBytes([{ ...good, pax: { 'CAIRN.meta.Bad Key': 'v' } }]), 400],
  ];
  const out: HostileCase[] = cases.map(([name, body, status], i) => ({
    name: `batch: ${name}`,
    method: 'POST',
    path: `/v1/sessions/hb_${i}/batch`,
    body,
    headers: tarType,
    status,
  }));
  const one = tarBytes([good]);
  out.push(
    {
      name: 'batch: read token',
      method: 'POST',
      path: '/v1/sessions/run_hb/batch',
      body: one,
      headers: tarType,
      as: 'read',
      status: 403,
    },
    {
      name: 'batch: glob token elsewhere',
      method: 'POST',
      path: '/v1/sessions/hb_other/batch',
      body: one,
      headers: tarType,
      as: 'scoped',
      status: 403,
    },
    {
      name: 'batch: into a sealed session',
      method: 'POST',
      path: '/v1/sessions/sealed1/batch',
      body: one,
      headers: tarType,
      status: 409,
    },
    {
      name: 'batch: glob token downloads elsewhere',
      method: 'GET',
      path: '/v1/sessions/ok/batch',
      as: 'scoped',
      status: 404,
    },
  );
  return out;
}
