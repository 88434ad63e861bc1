// Kubernetes `Status` answers, shaped and worded as kube-apiserver's own (apimachinery
// api/errors, apiserver responsewriters), because kubectl and client-go branch on `reason` and
// `code` and print `message`: a gateway refusal must read like an API server refusal. Fields are
// in the API server's JSON order so answers compare byte for byte.
import type { RequestAttributes } from '../core/policy/model.ts';
import { APPROVALREQUEST_PLURAL, GROUP } from '../crds/types.gen.ts';

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'TooManyRequests' | 'InternalError' | 'ServiceUnavailable' | 'Timeout' | 'RequestEntityTooLarge' | 'NotAcceptable'
  | 'Invalid';

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  /** For a Forbidden answer, the resource (without its subresource), as the API server sets it. */
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export interface Status {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Readonly<Record<string, never>>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: StatusReason;
  readonly details?: StatusDetails;
  /** The HTTP status code to answer with. */
  readonly code: number;
}

function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details === undefined ? {} : { details }), code };
}

/** 400: the request cannot be read (a bad path, bad impersonation headers). */
export function badRequest(message: string): Status {
  return failure(400, 'BadRequest', message);
}

/**
 * 401, worded as the API server words it whatever went wrong (the reason belongs in the log),
 * unless the caller must be told something it can act on that reveals nothing about its token.
 */
export function unauthorized(message = 'Unauthorized'): Status {
  return failure(401, 'Unauthorized', message);
}

/** What a refused request tried to do: the policy model's request attributes. */
export type ForbiddenRequest = RequestAttributes;

function forbiddenWhat(user: string, r: ForbiddenRequest): string {
  if (!r.resourceRequest) return `User ${JSON.stringify(user)} cannot ${r.verb} path ${JSON.stringify(r.path)}`;
  const resource = r.subresource === '' ? r.resource : `${r.resource}/${r.subresource}`;
  const scope = r.namespace === '' ? 'at the cluster scope' : `in the namespace ${JSON.stringify(r.namespace)}`;
  return `User ${JSON.stringify(user)} cannot ${r.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(r.apiGroup)} ${scope}`;
}

/**
 * 403 as the API server's authorizer writes it, e.g. `pods "web" is forbidden: User "bob" cannot
 * delete resource "pods" in API group "" in the namespace "prod": <reason>`.
 */
export function forbidden(user: string, request: ForbiddenRequest, reason = ''): Status {
  const why = reason === '' ? forbiddenWhat(user, request) : `${forbiddenWhat(user, request)}: ${reason}`;
  if (!request.resourceRequest || request.resource === '') return failure(403, 'Forbidden', `forbidden: ${why}`, {});
  const qualified = request.apiGroup === '' ? request.resource : `${request.resource}.${request.apiGroup}`;
  const subject = request.name === '' ? qualified : `${qualified} ${JSON.stringify(request.name)}`;
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, {
    ...(request.name === '' ? {} : { name: request.name }),
    ...(request.apiGroup === '' ? {} : { group: request.apiGroup }),
    kind: request.resource,
  });
}

/**
 * 403 for a request held for approval (or refused by a reviewer): the message says what to do, and
 * the details name the ApprovalRequest (group airlock.dev, kind approvalrequests), so a client can
 * find it without parsing the message.
 */
export function approvalForbidden(message: string, approvalRequest: string | undefined): Status {
  return failure(403, 'Forbidden', message, approvalRequest === undefined ? {} : { name: approvalRequest, group: GROUP, kind: APPROVALREQUEST_PLURAL });
}

/** 406: the client accepts no answer the gateway may pass on (protobuf where masking applies). */
export function notAcceptable(message: string): Status {
  return failure(406, 'NotAcceptable', message);
}

/** 413: the body is larger than the gateway holds in memory (here: to fingerprint it for approval). */
export function entityTooLarge(message: string): Status {
  return failure(413, 'RequestEntityTooLarge', message);
}

/** 429; the caller also sends `Retry-After` with the same number of seconds. */
export function tooManyRequests(retryAfterSeconds: number, message = 'Too many requests, please try again later.'): Status {
  return failure(429, 'TooManyRequests', message, { retryAfterSeconds });
}

/** 408: the request (its body) did not arrive in time; the gateway closes the connection after it. */
export function requestTimeout(message: string): Status {
  return failure(408, 'Timeout', `Timeout: ${message}`);
}

/** 500 with a fixed message: what failed inside the gateway stays in its log. */
export function internalError(): Status {
  return failure(500, 'InternalError', 'Internal error occurred: the gateway could not process the request');
}

/** 503, or 502 when the API server answered with something that is not HTTP. */
export function serviceUnavailable(message: string, code: 502 | 503 = 503): Status {
  return failure(code, 'ServiceUnavailable', message);
}

/** 504, worded as apimachinery's NewTimeoutError. */
export function gatewayTimeout(message: string, retryAfterSeconds = 0): Status {
  return failure(504, 'Timeout', `Timeout: ${message}`, retryAfterSeconds > 0 ? { retryAfterSeconds } : {});
}

/**
 * 422 as the API server's validation writes it (apimachinery NewInvalid): kubectl prints
 * `The Secret "db" is invalid: data.password: Invalid value: …`.
 */
export function invalid(target: { readonly kind: string; readonly name: string; readonly group: string }, causes: readonly { readonly field: string; readonly message: string }[]): Status {
  const listed = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = listed.length === 1 ? listed[0] ?? '' : `[${listed.join(', ')}]`;
  const subject = target.name === '' ? target.kind : `${target.kind} ${JSON.stringify(target.name)}`;
  return failure(422, 'Invalid', `${subject} is invalid: ${summary}`, {
    ...(target.name === '' ? {} : { name: target.name }),
    ...(target.group === '' ? {} : { group: target.group }),
    kind: target.kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}
