// Reading the HTTP status out of client-node's errors. Typed API calls throw ApiException with
// `code`; the watch behind informers throws a plain Error with `statusCode`. Callers branch on the
// number, never on message text.
import { ApiException } from '@kubernetes/client-node';

export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number') return error.statusCode;
  return undefined;
}

/** The write lost an optimistic-concurrency race (stale resourceVersion, or create of an existing name). */
export const isConflict = (error: unknown): boolean => httpStatusOf(error) === 409;

export const isNotFound = (error: unknown): boolean => httpStatusOf(error) === 404;

/**
 * One line about an error for logs. ApiException's own message carries the whole response body
 * and headers; only the Status's reason and message are kept.
 */
export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const status = statusFields(error.body);
    return `HTTP ${error.code}${status.reason === undefined ? '' : ` ${status.reason}`}${status.message === undefined ? '' : `: ${status.message}`}`;
  }
  if (!(error instanceof Error)) return String(error);
  const code = httpStatusOf(error);
  return `${error.name}${code === undefined ? '' : ` (HTTP ${code})`}: ${error.message}`;
}

/** client-node 2.0.1 puts the error response's raw text (a JSON Status) in `body`. */
function statusFields(body: unknown): { reason?: string; message?: string } {
  let status = body;
  if (typeof body === 'string') {
    try { status = JSON.parse(body); } catch { return {}; }
  }
  if (typeof status !== 'object' || status === null) return {};
  const fields: { reason?: string; message?: string } = {};
  if ('reason' in status && typeof status.reason === 'string') fields.reason = status.reason;
  if ('message' in status && typeof status.message === 'string') fields.message = status.message;
  return fields;
}
