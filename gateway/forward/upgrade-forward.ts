// Relays an upgraded connection (exec, attach, port-forward; WebSocket or SPDY) once the request
// has been decided: the upstream request carries the same Upgrade headers, and after the API
// server's 101 the two sockets are joined byte for byte. Protocol-agnostic on purpose: kubectl
// falls back from WebSocket (GET) to SPDY (POST), and both must work.
import { request } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { upstreamTarget, type Upstream } from '../upstream/upstream-client.ts';
import { isRewritable, type BodyRewriter } from './body-relay.ts';

export interface UpgradeOutcome {
  readonly code: number;
  readonly upstreamError?: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
}

/** Sees a session's bytes as they are relayed (the recorder); it never changes them. */
export interface UpgradeTap {
  /** After the API server's 101: its raw headers, and a function that ends the session. */
  upgraded(rawHeaders: readonly string[], kill: () => void): void;
  fromClient(chunk: Buffer): void;
  fromServer(chunk: Buffer): void;
}

export interface UpgradeInput {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly upstream: Upstream;
  readonly headers: OutgoingHttpHeaders;
  readonly path: string;
  readonly fail: (code: 502 | 503, message: string) => void;
  readonly tap?: UpgradeTap | undefined;
  /** When masking applies: the rewriter for an answer that is not a 101, which must then be JSON. */
  readonly rewriter?: () => BodyRewriter;
}

/** Serialises a response head for a raw socket, keeping repeated headers as separate lines. */
export function rawResponseHead(statusCode: number, statusMessage: string, rawHeaders: readonly string[]): string {
  const lines = [`HTTP/1.1 ${statusCode} ${statusMessage}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i] ?? ''}: ${rawHeaders[i + 1] ?? ''}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function withoutHeaders(rawHeaders: readonly string[], names: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (!names.includes(name.toLowerCase())) kept.push(name, rawHeaders[i + 1] ?? '');
  }
  return kept;
}

export function forwardUpgrade(input: UpgradeInput): Promise<UpgradeOutcome> {
  const { req, socket, upstream } = input;
  const started = performance.now();
  return new Promise((resolve) => {
    let bytesIn = 0;
    let bytesOut = 0;
    let settled = false;
    const settle = (code: number, upstreamError?: string): void => {
      if (settled) return;
      settled = true;
      resolve({ code, bytesIn, bytesOut, durationMs: performance.now() - started, ...(upstreamError === undefined ? {} : { upstreamError }) });
    };
    const upstreamReq = request({
      ...upstreamTarget(upstream, input.path),
      method: req.method ?? 'GET',
      // A dedicated connection: an upgraded socket never returns to the pool.
      agent: false,
      ca: upstream.agent.options.ca,
      headers: input.headers,
    });
    upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
      const close = (): void => { socket.destroy(); upstreamSocket.destroy(); settle(101); };
      const tap = input.tap;
      tap?.upgraded(upstreamRes.rawHeaders, close);
      socket.write(rawResponseHead(101, upstreamRes.statusMessage ?? 'Switching Protocols', upstreamRes.rawHeaders));
      if (upstreamHead.length > 0) { tap?.fromServer(upstreamHead); socket.write(upstreamHead); }
      if (input.head.length > 0) { tap?.fromClient(input.head); upstreamSocket.write(input.head); }
      socket.on('data', (c: Buffer) => { bytesIn += c.length; tap?.fromClient(c); });
      upstreamSocket.on('data', (c: Buffer) => { bytesOut += c.length; tap?.fromServer(c); });
      socket.pipe(upstreamSocket).pipe(socket);
      socket.on('close', close);
      upstreamSocket.on('close', close);
      socket.on('error', close);
      upstreamSocket.on('error', close);
    });
    upstreamReq.on('response', (upstreamRes) => {
      // The API server refused the upgrade (403, 400, …) or the proxied target answered without
      // upgrading: relay its answer as a plain response, masked where masking applies. The body is
      // relayed decoded and the socket closed after it, so framing headers go.
      const rewriter = plainAnswerRewriter(upstreamRes, input.rewriter);
      if (rewriter === null) {
        upstreamRes.destroy();
        input.fail(502, `the answer (${upstreamRes.headers['content-type'] ?? 'no content type'}) cannot be masked, so it is not passed on`);
        settle(502, 'unmaskable response');
        return;
      }
      const headers = withoutHeaders(upstreamRes.rawHeaders, ['connection', 'transfer-encoding', 'content-length', ...(rewriter === undefined ? [] : ['content-encoding'])]);
      socket.write(rawResponseHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage ?? '', [...headers, 'Connection', 'close']));
      const code = upstreamRes.statusCode ?? 502;
      upstreamRes.on('data', (chunk: Buffer) => { guardedWrite(socket, () => (rewriter === undefined ? [chunk] : rewriter.push(chunk)), () => { upstreamRes.destroy(); settle(code, 'masking failed'); }); });
      upstreamRes.on('end', () => {
        if (guardedWrite(socket, () => rewriter?.end() ?? [], () => { settle(code, 'masking failed'); })) socket.end();
        settle(code);
      });
      upstreamRes.on('error', (e) => { socket.destroy(); settle(code, e.message); });
    });
    upstreamReq.on('error', (e) => {
      input.fail(503, 'the Kubernetes API server is unavailable');
      settle(503, e.message);
    });
    upstreamReq.end();
  });
}

/** Writes what `produce` returns; a rewriter failure cuts the connection (never the rest unmasked). */
function guardedWrite(socket: Duplex, produce: () => readonly Buffer[], failed: () => void): boolean {
  let pieces: readonly Buffer[];
  try {
    pieces = produce();
  } catch {
    socket.destroy();
    failed();
    return false;
  }
  for (const piece of pieces) if (piece.length > 0) socket.write(piece);
  return true;
}

/** No rewriter when nothing is masked; null when masking applies and the answer is not plain JSON. */
function plainAnswerRewriter(upstreamRes: IncomingMessage, make: (() => BodyRewriter) | undefined): BodyRewriter | undefined | null {
  if (make === undefined) return undefined;
  return isRewritable(upstreamRes) ? make() : null;
}
