// Deadlines for request bodies, as nginx's client_body_timeout and Envoy's request timeout: a body
// must arrive whole within `totalMs` of its headers, and never pause for longer than `idleMs`. A
// client that trickles a body (slowloris) is answered 408 and its connection closed.
//
// Only requests that declare a body are watched: a watch, `logs -f` or any GET has none, and an
// upgrade (exec, attach, port-forward) leaves HTTP before its first byte of data, so long-running
// requests are never cut here; they live as long as the API server keeps them.
//
// A pause counts only when it is the client's: while the gateway itself has not read what arrived
// (authentication under way, the API server reading slowly), the body is not idle.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { declaredBodyLength } from '../parse/request-body.ts';
import { requestTimeout } from '../status.ts';
import type { LimitName } from './limit-names.ts';

export interface BodyDeadlineOptions {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly refused: (limit: LimitName) => void;
  /** Milliseconds; injected by tests. */
  readonly now?: () => number;
}

export interface BodyDeadlines {
  /** Watches the request's body until it has arrived, if it declares one. */
  watch(req: IncomingMessage, res: ServerResponse): void;
  /** Checks every watched body now (the timer calls it; tests may too). */
  check(): void;
  /** Bodies being watched. */
  readonly watching: number;
  close(): void;
}

interface Watched {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startedAt: number;
  lastProgressAt: number;
  lastBytesRead: number;
}

/** How long a cut connection may take to send its 408 before it is destroyed anyway. */
const CUT_GRACE_MS = 1000;

export function createBodyDeadlines(options: BodyDeadlineOptions): BodyDeadlines {
  const now = options.now ?? Date.now;
  const watched = new Set<Watched>();
  // One timer for all bodies, as Node checks header deadlines, instead of one per request.
  const period = Math.max(50, Math.min(1000, Math.floor(Math.min(options.totalMs, options.idleMs) / 4)));
  let timer: NodeJS.Timeout | undefined;

  const check = (): void => {
    const at = now();
    for (const w of watched) {
      if (w.req.complete || w.req.destroyed) { watched.delete(w); continue; }
      if (at - w.startedAt >= options.totalMs) {
        cut(w, 'request-body-timeout', `the request body did not arrive within ${options.totalMs / 1000}s (limits.requestBodyTimeoutSeconds)`);
        continue;
      }
      const bytesRead = w.req.socket.bytesRead;
      if (bytesRead !== w.lastBytesRead || waitingOnGateway(w.req)) {
        w.lastBytesRead = bytesRead;
        w.lastProgressAt = at;
      } else if (at - w.lastProgressAt >= options.idleMs) {
        cut(w, 'request-body-idle-timeout', `the request body stopped arriving for ${options.idleMs / 1000}s (limits.requestBodyIdleTimeoutSeconds)`);
      }
    }
    if (watched.size === 0 && timer !== undefined) { clearInterval(timer); timer = undefined; }
  };

  const cut = (w: Watched, limit: LimitName, message: string): void => {
    watched.delete(w);
    options.refused(limit);
    const socket = w.req.socket;
    if (w.res.headersSent) { socket.destroy(); return; }
    const status = requestTimeout(message);
    const body = JSON.stringify(status);
    w.res.writeHead(status.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', connection: 'close' });
    w.res.end(body);
    // A client that reads nothing would hold the 408 (and the socket) forever.
    const grace = setTimeout(() => { socket.destroy(); }, CUT_GRACE_MS);
    grace.unref();
    w.res.once('finish', () => { clearTimeout(grace); socket.destroy(); });
  };

  return {
    watch(req, res) {
      if (declaredBodyLength(req) === 0 || req.complete) return;
      const at = now();
      watched.add({ req, res, startedAt: at, lastProgressAt: at, lastBytesRead: req.socket.bytesRead });
      if (timer === undefined) {
        timer = setInterval(check, period);
        timer.unref();
      }
    },
    check,
    get watching() { return watched.size; },
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      watched.clear();
    },
  };
}

/** The gateway holds bytes of the body it has not read yet, or has paused reading it itself. */
function waitingOnGateway(req: IncomingMessage): boolean {
  return req.readableLength > 0 || req.readableFlowing === false;
}
