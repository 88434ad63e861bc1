// A minimal GET-only fetch over node:https that trusts a given CA bundle. openid-client and jose
// accept a custom fetch; the global fetch cannot be given a CA without a second HTTP stack, and an
// issuer with a private CA (the local control plane's, a corporate one) is the usual case here.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface FetchInit {
  readonly method: string;
  readonly headers?: Headers | Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export type FetchLike = (url: string, init: FetchInit) => Promise<Response>;

/** Discovery documents and key sets are small; anything larger is refused. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Statuses for which `new Response()` refuses a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

function toResponse(res: IncomingMessage, body: Buffer): Response {
  const status = res.statusCode ?? 502;
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, headers });
}

export function caFetch(ca: string | Buffer): FetchLike {
  return (url, init) => new Promise<Response>((resolve, reject) => {
    if (init.method !== 'GET') { reject(new TypeError(`caFetch supports GET only, not ${init.method}`)); return; }
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const req = send(target, { method: 'GET', headers, ca, ...(init.signal === undefined ? {} : { signal: init.signal }) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) { req.destroy(new Error(`response from ${target.origin} exceeds ${MAX_BODY_BYTES} bytes`)); return; }
        chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => { resolve(toResponse(res, Buffer.concat(chunks))); });
    });
    req.on('error', reject);
    req.end();
  });
}
