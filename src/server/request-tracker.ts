import type http from 'node:http';
import type { Socket } from 'node:net';

/** Methods that only read: cutting one of them loses nothing but the answer. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface Tracked {
  req: http.IncomingMessage;
  settled: boolean;
}

/**
 * Knows, for each connection of one server, the requests whose handlers are still running, so
 * that a shutdown can tell a connection it may cut from one whose commit is underway. Attach it
 * with {@link RequestTracker.attach} before the server accepts connections and hand every
 * request's handler promise to {@link RequestTracker.track}.
 */
export class RequestTracker {
  private readonly sockets = new Map<Socket, Set<Tracked>>();
  /** True once a shutdown has begun: new requests are refused (503 `server_stopping`). */
  stopping = false;

  /** Follows the connections `server` accepts (and forgets each once it closes). */
  attach(server: http.Server): void {
    server.on('connection', (socket: Socket) => {
      this.sockets.set(socket, new Set());
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Records `req` as in flight on its connection until `handled` settles. Never rejects. */
  track(req: http.IncomingMessage, handled: Promise<void>): void {
    const entry: Tracked = { req, settled: false };
    const set = this.sockets.get(req.socket);
    set?.add(entry);
    const done = () => {
      entry.settled = true;
      set?.delete(entry);
    };
    handled.then(done, done);
  }

  /**
   * True while a write request on `socket` has its whole body and its handler still runs: from
   * there on it may be committing, and its answer (2xx only once committed) must not be cut. A
   * write whose body has not fully arrived is not committing: cutting it aborts the upload,
   * which leaves no trace.
   */
  committing(socket: Socket): boolean {
    for (const t of this.sockets.get(socket) ?? []) {
      if (!t.settled && !READ_METHODS.has(t.req.method ?? 'GET') && t.req.complete) return true;
    }
    return false;
  }

  /** Destroys every open connection that is not {@link committing}; returns how many remain. */
  cutAllButCommits(): number {
    let left = 0;
    for (const socket of this.sockets.keys()) {
      if (this.committing(socket)) left++;
      else socket.destroy();
    }
    return left;
  }
}
