import { readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** One upload that sent part of its body and then stopped sending. */
export interface StalledUpload {
  socket: net.Socket;
  /** What the server answered so far (empty while it is still waiting for the body). */
  answer(): string;
}

/**
 * Opens `count` pushes on raw sockets, each announcing `announced` bytes and sending only
 * `sent` of them, then leaving the connection open without sending more.
 */
export async function stallUploads(
  base: string,
  token: string,
  count: number,
  sent: number,
  announced: number,
): Promise<StalledUpload[]> {
  const url = new URL(base);
  const body = Buffer.alloc(sent, 7);
  const open = Array.from({ length: count }, async (_, i) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    // A refused upload is closed by the server while the client still writes: not a failure.
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `PUT /v1/sessions/stall/artifacts/s${i}.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${announced}\r\n\r\n`,
    );
    socket.write(body);
    return { socket, answer: () => text };
  });
  return Promise.all(open);
}

/** Resident set size of process `pid`, in bytes (VmRSS of /proc/PID/status). */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** Files in `dir` holding at least `min` bytes. */
export function filesOver(dir: string, min: number): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    try {
      if (statSync(join(dir, f)).size >= min) n++;
    } catch {
      // Removed between the listing and the stat: not over anything.
    }
  }
  return n;
}

/** Resolves once `cond` holds, checking every 50 ms (bounded by the test's timeout). */
export async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 50));
}

/** MiB, one decimal, for the printed figures. */
export const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
