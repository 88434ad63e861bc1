// Forwards one decided request to the API server and streams the answer back: no buffering, so
// watch, `logs -f` and large lists flow as the API server writes them.
import { request, type RequestOptions } from 'node:https';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { upstreamTarget, type Upstream } from '../upstream/upstream-client.ts';
import type { ReadBody } from '../parse/request-body.ts';
import { isRewritable, relayBody, type BodyRewriter } from './body-relay.ts';

/** What proxies log for a client that closed the connection before any answer (nginx's 499). */
const CLIENT_CLOSED_REQUEST = 499;

/** The gateway stopped waiting for the API server's answer (told apart by type, not message). */
class UpstreamTimeoutError extends Error {
  constructor() {
    super('upstream timed out');
    this.name = 'UpstreamTimeoutError';
  }
}

/** Header names a proxy must not pass on in either direction (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface ForwardOutcome {
  /** Status code sent to the client; 502/503/504 when the upstream failed before answering; 499
   * (as proxies log it) when the client left before any answer. */
  readonly code: number;
  /** Set when the upstream failed (before or during the response); not when the client left and
   * the gateway dropped the upstream request itself. */
  readonly upstreamError?: string;
  readonly upstreamLatencyMs: number;
}

export interface ForwardInput {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly upstream: Upstream;
  /** Final request headers: sanitized client headers plus the gateway's credential and identity. */
  readonly headers: OutgoingHttpHeaders;
  readonly path: string;
  readonly longRunning: boolean;
  /** Writes a Status answer when the upstream cannot be reached (headers not yet sent). */
  readonly fail: (code: 502 | 503 | 504, message: string) => void;
  /** Runs after the upstream body ended and before the client's response ends (the final audit
   * record is made durable here); if it rejects, the response is cut instead of completed. */
  readonly beforeEnd?: (code: number) => Promise<void>;
  /** The part of the request body an earlier stage already read (request-body.ts); the rest, if
   * any, is still piped from `req`. */
  readonly body?: ReadBody;
  /** Rewrites the response body (masking); the response must then be JSON, or it is refused. */
  readonly rewriter?: BodyRewriter;
  /** Called with the upstream's answer before its body is relayed; what it returns sees every byte the client gets (after the rewrite). */
  readonly tapResponse?: (response: IncomingMessage) => (bytes: Buffer) => void;
  /** The gateway's own warnings, added to the API server's as `Warning: 299 - "…"` headers. */
  readonly warnings?: readonly string[];
}

/** RFC 9111 §5.5 warn-text: a quoted string, printable ASCII only (a header carries latin1). */
export function warningHeader(text: string): string {
  return `299 - "${text.replace(/[\\"]/g, '\\$&').replace(/[^\u0020-\u007e]/g, '?')}"`;
}

export function responseHeaders(raw: readonly string[]): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    const value = raw[i + 1] ?? '';
    const existing = headers[lower];
    if (existing === undefined) headers[lower] = value;
    else headers[lower] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

/** The gateway's warnings after the API server's own, one `Warning` line each. */
function addWarnings(headers: OutgoingHttpHeaders, warnings: readonly string[] | undefined): void {
  if (warnings === undefined || warnings.length === 0) return;
  // Node types `warning` as one string; it is repeated here, one line per warning.
  const all = headers as Record<string, number | string | string[] | undefined>;
  const existing = all['warning'];
  all['warning'] = [...(existing === undefined ? [] : [existing].flat().map(String)), ...warnings.map(warningHeader)];
}

export function forwardHttp(input: ForwardInput): Promise<ForwardOutcome> {
  const { req, res, upstream } = input;
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    /** The client went away before any answer was sent (the upstream request is then dropped). */
    let clientLeft = false;
    /** The upstream's answer, once it is being relayed. */
    let answered: { readonly response: IncomingMessage; readonly code: number } | undefined;
    const settle = (outcome: Omit<ForwardOutcome, 'upstreamLatencyMs'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, upstreamLatencyMs: performance.now() - started });
    };
    const options: RequestOptions = {
      method: req.method ?? 'GET',
      agent: input.longRunning ? upstream.streamAgent : upstream.agent,
      headers: input.headers,
      // Long-running requests end when the API server ends them (watch timeoutSeconds, exec exit).
      ...(input.longRunning ? {} : { timeout: 120_000 }),
    };
    const upstreamRes = (upstreamResponse: IncomingMessage): void => {
      if (res.headersSent) {
        // The gateway already answered (a body deadline's 408): nothing more goes to this client.
        upstreamResponse.destroy();
        settle({ code: res.statusCode, upstreamError: 'the client was already answered' });
        return;
      }
      const rewriter = bodyRewriter(upstreamResponse, input.rewriter);
      if (rewriter === null) {
        // Masking applies and the answer is not JSON: nothing unmasked leaves the gateway.
        upstreamResponse.destroy();
        input.fail(502, `the Kubernetes API server answered ${upstreamResponse.headers['content-type'] ?? 'without a content type'}, which the gateway cannot mask`);
        settle({ code: 502, upstreamError: 'unmaskable response' });
        return;
      }
      const headers = responseHeaders(upstreamResponse.rawHeaders);
      if (rewriter !== undefined) delete headers['content-length'];
      addWarnings(headers, input.warnings);
      const code = upstreamResponse.statusCode ?? 502;
      res.writeHead(code, headers);
      // A watch's client must see the headers at once; otherwise headers and body share one write.
      if (input.longRunning) res.flushHeaders();
      // A client reading a Content-Length body is done at its last byte, not at res.end(): so that
      // the final audit record is durable before the client has the whole answer, the last piece is
      // held back until beforeEnd resolves. Long-running responses (watch, logs -f) flow unheld.
      const held = relayBody({
        from: upstreamResponse, to: res, rewriter, holdLast: !input.longRunning, tap: input.tapResponse?.(upstreamResponse),
        onEnd: () => {
          (input.beforeEnd ?? (() => Promise.resolve()))(code).then(
            () => { res.end(held()); settle({ code }); },
            (error: unknown) => { res.destroy(); settle({ code, upstreamError: `response cut: ${error instanceof Error ? error.message : String(error)}` }); },
          );
        },
        // A masking error mid-stream cuts the response: never the rest unmasked.
        onError: (e) => { res.destroy(e); upstreamResponse.destroy(); settle({ code, upstreamError: e.message }); },
      });
      upstreamResponse.on('error', (e) => { res.destroy(e); settle({ code, upstreamError: e.message }); });
      answered = { response: upstreamResponse, code };
    };
    const upstreamReq = request({ ...upstreamTarget(upstream, input.path), ...options }, upstreamRes);
    upstreamReq.on('timeout', () => { upstreamReq.destroy(new UpstreamTimeoutError()); });
    upstreamReq.on('error', (e) => {
      if (clientLeft && !res.headersSent) {
        // The gateway dropped the upstream request because the client had left: not an upstream
        // failure, and there is no one to answer.
        settle({ code: CLIENT_CLOSED_REQUEST });
      } else if (!res.headersSent) {
        const code = e instanceof UpstreamTimeoutError ? 504 : 503;
        input.fail(code, code === 504 ? 'the Kubernetes API server did not answer in time' : 'the Kubernetes API server is unavailable');
        settle({ code, upstreamError: e.message });
      } else {
        res.destroy(e);
        settle({ code: res.statusCode, upstreamError: e.message });
      }
    });
    sendBody(req, upstreamReq, input.body);
    const leave = (): void => { clientLeft = true; upstreamReq.destroy(); };
    req.on('aborted', leave);
    // The client went away: before any answer, the upstream request is dropped (499); during one
    // (e.g. ^C on a watch), the upstream stops being read.
    res.once('close', () => {
      if (answered === undefined) {
        if (!res.writableFinished) leave();
        return;
      }
      if (!answered.response.complete) upstreamReq.destroy();
      settle({ code: answered.code });
    });
  });
}

function sendBody(req: IncomingMessage, upstreamReq: ClientRequest, body: ReadBody | undefined): void {
  if (body === undefined) { req.pipe(upstreamReq); return; }
  if (body.complete) { upstreamReq.end(body.body); return; }
  upstreamReq.write(body.head);
  req.pipe(upstreamReq);
}

/**
 * The body's rewriter: none when the response is relayed as it is, the masker when masking
 * applies, null when masking applies and the answer is not uncompressed JSON (it is refused).
 */
function bodyRewriter(upstreamRes: IncomingMessage, rewriter: BodyRewriter | undefined): BodyRewriter | undefined | null {
  if (rewriter === undefined) return undefined;
  return isRewritable(upstreamRes) ? rewriter : null;
}
