// The one place a failed stage becomes an answer: a table from error class (and, where it
// matters, its code) to the `Status` the client gets and the log line the gateway writes. Errors
// the table does not know are a 500 that tells the client nothing; the detail goes to the log.
// Never a message comparison: every entry matches a typed error.
import { BearerTokenError } from './parse/strip-client-headers.ts';
import { ImpersonationHeaderError } from './authenticate/impersonation-headers.ts';
import { RequestInfoError } from './parse/request-target.ts';
import { ImpersonationForbiddenError } from './authenticate/resolve-identity.ts';
import { AuthenticationError } from '../core/identity.ts';
import { AuditWriteError } from '../core/audit/errors.ts';
import { MissingCredentialError } from './upstream/token-source.ts';
import { UpstreamError } from './upstream/upstream-client.ts';
import { ApprovalApiError } from './approve/approval-api.ts';
import { UpgradeRefusedError } from './parse/upgrade-target.ts';
import { LimitExceededError } from './limits/limit-names.ts';
import { RequestBodyAbortedError } from './parse/request-body.ts';
import { badRequest, forbidden, internalError, serviceUnavailable, unauthorized, type Status } from './status.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What the client is answered, and what the log says (never a token or a secret value). */
export interface ErrorAnswer {
  readonly status: Status;
  readonly level: LogLevel;
  readonly log: string;
  /** Structured fields for the log line; the error itself is logged under `err` at warn and error. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

type ErrorClass<E> = abstract new (...args: never[]) => E;

interface Entry<E extends Error> {
  readonly type: ErrorClass<E>;
  readonly answer: (error: E) => ErrorAnswer;
}

function entry<E extends Error>(type: ErrorClass<E>, answer: (error: E) => ErrorAnswer): Entry<Error> {
  return { type, answer: answer as (error: Error) => ErrorAnswer };
}

function authentication(error: AuthenticationError): ErrorAnswer {
  if (error.code === 'unforwardable_identity') {
    // Not a secret: the caller's own name, which the gateway cannot pass on unchanged.
    return { status: unauthorized(`Unauthorized: ${error.reason}`), level: 'info', log: 'authentication refused', fields: { code: error.code, reason: error.reason } };
  }
  if (error.retryable) {
    // The token may well be valid: the one who could tell is unreachable. A 401 would make clients
    // drop good credentials; 503 makes them retry.
    return {
      status: serviceUnavailable('the gateway cannot verify the token right now (its issuer or the Kubernetes API server is unavailable); retry shortly'),
      level: 'warn', log: 'authentication could not be completed', fields: { code: error.code, reason: error.reason },
    };
  }
  // The reason stays in the log (it never contains the token); the client learns only 401.
  return { status: unauthorized(), level: 'info', log: 'authentication refused', fields: { code: error.code, reason: error.reason } };
}

function impersonationForbidden(error: ImpersonationForbiddenError): ErrorAnswer {
  const [first] = error.refused;
  const status = first === undefined
    ? internalError()
    : forbidden(error.caller, {
      resourceRequest: true, verb: first.verb, apiGroup: first.group, resource: first.resource,
      subresource: first.subresource ?? '', namespace: first.namespace ?? '', name: first.name, path: '',
    });
  return { status, level: 'info', log: 'impersonation refused', fields: { caller: error.caller } };
}

const TABLE: readonly Entry<Error>[] = [
  entry(RequestInfoError, (e) => ({ status: badRequest(e.message), level: 'debug', log: 'request path refused', fields: { code: e.code } })),
  entry(ImpersonationHeaderError, (e) => ({ status: badRequest(e.message), level: 'debug', log: 'impersonation headers refused', fields: { code: e.code } })),
  entry(UpgradeRefusedError, (e) => ({ status: badRequest(e.message), level: 'debug', log: 'upgrade refused', fields: { code: e.code } })),
  entry(LimitExceededError, (e) => ({ status: e.status, level: 'info', log: 'request refused by a limit', fields: { limit: e.code } })),
  // The client left or a body deadline cut it (limits/body-deadlines.ts): nobody reads this answer.
  entry(RequestBodyAbortedError, (e) => ({ status: badRequest(e.message), level: 'info', log: 'request body not received; the connection closed' })),
  entry(BearerTokenError, (e) => ({ status: unauthorized(), level: 'info', log: 'bearer token refused', fields: { code: e.code } })),
  entry(AuthenticationError, authentication),
  entry(ImpersonationForbiddenError, impersonationForbidden),
  entry(AuditWriteError, () => ({
    status: serviceUnavailable('the audit log is unavailable, so the gateway refuses requests (audit failurePolicy FailClosed)'),
    level: 'error', log: 'audit record not written; request refused (FailClosed)',
  })),
  entry(MissingCredentialError, () => ({ status: serviceUnavailable('the gateway has no upstream credential yet'), level: 'error', log: 'no upstream credential' })),
  entry(UpstreamError, (e) => ({ status: serviceUnavailable('the Kubernetes API server is unavailable'), level: 'warn', log: 'API server call failed', fields: { code: e.code } })),
  entry(ApprovalApiError, (e) => ({
    status: serviceUnavailable('the gateway could not read or write the ApprovalRequest; retry shortly'),
    level: 'warn', log: 'ApprovalRequest call failed', fields: { status: e.status },
  })),
];

const UNKNOWN: Omit<ErrorAnswer, 'status'> = { level: 'error', log: 'unexpected error in the request pipeline' };

/** The answer for an error any stage threw (or rejected with, error or not). */
export function answerForError(error: unknown): ErrorAnswer {
  if (error instanceof Error) {
    for (const { type, answer } of TABLE) if (error instanceof type) return answer(error);
  }
  return { ...UNKNOWN, status: internalError() };
}
