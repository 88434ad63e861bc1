// Polling for readiness: plain HTTP for etcd, mutual TLS for the API server (anonymous probes can
// be refused while RBAC bootstraps).
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';

export interface TlsClient {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export function httpGet(url: string, tls?: TlsClient): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const options = tls === undefined
      ? {}
      : { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { ...options, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end();
  });
}

export interface WaitOptions {
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Checked between attempts; a reason string aborts the wait (e.g. the process died). */
  readonly abort?: () => string | undefined;
}

/** Retries `check` until it returns true; throws with the last error after the timeout. */
export async function waitFor(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'not ready';
  for (;;) {
    const aborted = options.abort?.();
    if (aborted !== undefined) throw new Error(`${options.what}: ${aborted}`);
    try {
      if (await check()) return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`${options.what} not ready after ${options.timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
