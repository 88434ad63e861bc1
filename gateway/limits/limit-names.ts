// The limits a client can run into, by the name the refusal metric and the logs use
// (airlock_gateway_limit_refusals_total{limit}), and the typed error a refused stage throws.
import type { Status } from '../status.ts';

export type LimitName =
  /** limits.maxConnections: a connection closed at accept. */
  | 'connections'
  /** limits.maxConnectionsPerClientIP. */
  | 'connections-per-ip'
  | 'tls-handshake-timeout'
  | 'headers-timeout'
  /** limits.requestBodyTimeoutSeconds: the body did not arrive in time. */
  | 'request-body-timeout'
  /** limits.requestBodyIdleTimeoutSeconds: the body stopped arriving. */
  | 'request-body-idle-timeout'
  /** limits.maxRequestBodyBytes (413). */
  | 'request-body-size'
  /** limits.requestBodyBufferBytes: no room to hold the body in time (429). */
  | 'request-body-buffer'
  /** limits.perCaller.maxRequestsInflight (429). */
  | 'caller-requests'
  /** limits.perCaller.maxLongRunningRequests (429). */
  | 'caller-long-running';

/** A request refused by a limit; `status` is the answer (413 or 429 with Retry-After). */
export class LimitExceededError extends Error {
  readonly code: LimitName;
  readonly status: Status;

  constructor(code: LimitName, status: Status) {
    super(status.message);
    this.name = 'LimitExceededError';
    this.code = code;
    this.status = status;
  }
}
