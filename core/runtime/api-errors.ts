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
 * What a failed API call says about the API server, for how soon to try again:
 * - `unreachable`: no answer at all (connection refused or reset, timeout): it is away;
 * - `unavailable`: 429 or 5xx: it is there but busy or starting (429 "storage is (re)initializing");
 * - `refused`: 401 or 403: a missing permission, or its authorization caches still warming up
 *   right after a restart;
 * - `other`: anything else (404, 422, a bug).
 */
export type ErrorClass = 'unreachable' | 'unavailable' | 'refused' | 'other';

export function errorClass(error: unknown): ErrorClass {
  const status = httpStatusOf(error);
  if (status === undefined) return isConnectionError(error) ? 'unreachable' : 'other';
  if (status === 429 || status >= 500) return 'unavailable';
  if (status === 401 || status === 403) return 'refused';
  return 'other';
}

/** One kind of log line for an API server away or busy (the errors change as it stops and starts again). */
export function outageKind(kind: ErrorClass): string {
  return kind === 'unreachable' || kind === 'unavailable' ? 'outage' : kind;
}

/** Socket-level codes (Node's and undici's) of a request that got no answer. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** The socket-level code of an error or of its causes (fetch wraps them: `TypeError: fetch failed`). */
function connectionCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
  }
  return undefined;
}

function isConnectionError(error: unknown): boolean {
  if (connectionCode(error) !== undefined) return true;
  // undici's own words for a request that failed before or while its answer arrived.
  return error instanceof Error && (error.name === 'TimeoutError' || (error instanceof TypeError && (error.message === 'fetch failed' || error.message === 'terminated')));
}

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
  const socket = connectionCode(error);
  return `${error.name}${code === undefined ? '' : ` (HTTP ${code})`}: ${error.message}${socket === undefined || error.message.includes(socket) ? '' : ` (${socket})`}`;
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
