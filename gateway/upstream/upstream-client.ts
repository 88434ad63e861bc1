// One connection pool to the API server, shared by forwarding and by the gateway's own calls
// (TokenReview, SubjectAccessReview). Uses node:https directly: fetch merges repeated headers,
// and forwarding needs raw control of headers, streaming and upgrades.
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { TokenSource } from './token-source.ts';

export interface Upstream {
  readonly url: URL;
  /** Short requests: a keep-alive pool of at most `maxSockets` connections (more wait their turn). */
  readonly agent: Agent;
  /**
   * Long-running requests (watch, `logs -f`): no cap. Each holds its connection for minutes, so a
   * capped pool would let a few hundred watchers starve every other request, the gateway's own
   * TokenReviews and SubjectAccessReviews included.
   */
  readonly streamAgent: Agent;
  readonly tokens: TokenSource;
  /** POSTs a JSON object with the gateway's own credential and returns the parsed answer. */
  postJson<T>(path: string, body: unknown, timeoutMs?: number): Promise<T>;
  /** GETs a JSON document (discovery) with the gateway's own credential; answers up to 16 MiB. */
  getJson(path: string, accept: string): Promise<unknown>;
}

/**
 * Where a forwarded request goes: the upstream's host with the caller's path appended as a string.
 * Never `new URL(path, base)`: Node accepts request targets like `//evil.example/api`, which URL
 * resolution would turn into another host (with the gateway's token), and it would also resolve
 * `..` so the forwarded path could differ from the one policy decided on.
 */
export function upstreamTarget(upstream: Pick<Upstream, 'url'>, path: string): { protocol: string; hostname: string; port: string; path: string } {
  if (!path.startsWith('/') || path.startsWith('//')) throw new UpstreamError('upstream_status', 'refusing to forward a request target that is not an absolute path');
  const base = upstream.url.pathname.replace(/\/$/, '');
  return { protocol: upstream.url.protocol, hostname: upstream.url.hostname, port: upstream.url.port, path: `${base}${path}` };
}

export class UpstreamError extends Error {
  readonly code: 'upstream_unavailable' | 'upstream_status' | 'upstream_timeout';
  readonly status: number | undefined;
  constructor(code: UpstreamError['code'], message: string, status?: number) {
    super(message);
    this.name = 'UpstreamError';
    this.code = code;
    this.status = status;
  }
}

/** The gateway's own calls get small answers (reviews); a bigger one is refused, not buffered. */
const MAX_ANSWER_BYTES = 1024 * 1024;

function readCapped(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) { res.destroy(new Error(`the answer is larger than ${limit} bytes`)); return; }
      chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

/** ` (Forbidden)` from a Kubernetes Status answer, so errors say why without echoing a body. */
function statusReason(text: string): string {
  try {
    const status = JSON.parse(text) as { reason?: unknown };
    return typeof status.reason === 'string' ? ` (${status.reason})` : '';
  } catch {
    return '';
  }
}

export interface UpstreamOptions {
  readonly server: string;
  readonly caFile?: string;
  readonly tokens: TokenSource;
  readonly maxSockets?: number;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const url = new URL(options.server);
  const ca = options.caFile === undefined ? {} : { ca: readFileSync(options.caFile) };
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256, ...ca });
  const streamAgent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 16, ...ca });
  const call = (method: 'GET' | 'POST', path: string, how: { body?: unknown; accept: string; timeoutMs: number; maxBytes: number }): Promise<unknown> => new Promise((resolve, reject) => {
    const payload = how.body === undefined ? undefined : Buffer.from(JSON.stringify(how.body));
    const req = request({
      ...upstreamTarget({ url }, path),
      method,
      agent,
      timeout: how.timeoutMs,
      headers: {
        // Read per call: a rotated credential is used at once.
        authorization: `Bearer ${options.tokens.current()}`,
        accept: how.accept,
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }),
      },
    }, (res: IncomingMessage) => {
      readCapped(res, how.maxBytes).then((text) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          reject(new UpstreamError('upstream_status', `${method} ${path} answered ${status}${statusReason(text)}`, status));
          return;
        }
        try { resolve(JSON.parse(text) as unknown); } catch { reject(new UpstreamError('upstream_status', `${method} ${path}: the answer is not JSON`, status)); }
      }, (e: unknown) => { reject(new UpstreamError('upstream_unavailable', `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`)); });
    });
    req.on('timeout', () => req.destroy(new UpstreamError('upstream_timeout', `${method} ${path} timed out after ${how.timeoutMs} ms`)));
    req.on('error', (e) => { reject(e instanceof UpstreamError ? e : new UpstreamError('upstream_unavailable', e.message)); });
    req.end(payload);
  });
  const postJson = <T>(path: string, body: unknown, timeoutMs = 10_000): Promise<T> =>
    call('POST', path, { body, accept: 'application/json', timeoutMs, maxBytes: MAX_ANSWER_BYTES }) as Promise<T>;
  // Discovery of a cluster with many custom resources is larger than a review.
  const getJson = (path: string, accept: string): Promise<unknown> => call('GET', path, { accept, timeoutMs: 30_000, maxBytes: 16 * MAX_ANSWER_BYTES });
  return { url, agent, streamAgent, tokens: options.tokens, postJson, getJson };
}
