// A TokenReview call over node:https (not fetch: one HTTP stack with the forwarding path, and a CA
// given per request). The gateway normally passes its shared upstream client instead; this one
// stands alone for tools and tests.
import { request, type Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ReviewToken, TokenReviewResponse } from './token-review.ts';

export interface TokenReviewClientOptions {
  /** The API server, e.g. https://10.96.0.1:443 (a path prefix is kept). */
  readonly server: string;
  /** PEM bundle to trust for the API server; the system roots when absent. */
  readonly caPem?: string | Buffer;
  /** The gateway's own credential, read per call so a rotated token is used at once. */
  readonly bearerTokenProvider: () => string | Promise<string>;
  /** Default 10 000. */
  readonly timeoutMs?: number;
  readonly agent?: Agent;
}

const PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const MAX_BODY_BYTES = 1024 * 1024;

function statusDetail(text: string): string {
  try {
    const status = JSON.parse(text) as { reason?: unknown };
    return typeof status.reason === 'string' ? ` (${status.reason})` : '';
  } catch {
    return '';
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) { res.destroy(new Error('TokenReview answer is too large')); return; }
      chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
  });
}

export function createTokenReviewClient(options: TokenReviewClientOptions): ReviewToken {
  const base = new URL(options.server);
  if (base.protocol !== 'https:') throw new TypeError('TokenReview client: server must use https');
  const url = new URL(base.href.replace(/\/+$/, '') + PATH);
  const timeoutMs = options.timeoutMs ?? 10_000;

  return async (review) => {
    const credential = await options.bearerTokenProvider();
    const payload = Buffer.from(JSON.stringify(review));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        timeout: timeoutMs,
        ...(options.caPem === undefined ? {} : { ca: options.caPem }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        headers: {
          authorization: `Bearer ${credential}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': payload.length,
        },
      }, resolve);
      req.on('timeout', () => req.destroy(new Error(`TokenReview timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
    const text = await readBody(res);
    const code = res.statusCode ?? 0;
    if (code !== 200 && code !== 201) throw new Error(`TokenReview POST answered ${code}${statusDetail(text)}`);
    try {
      return JSON.parse(text) as TokenReviewResponse;
    } catch {
      throw new Error('TokenReview answer is not JSON');
    }
  };
}
