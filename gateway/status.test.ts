import { describe, expect, it } from 'vitest';
import { ImpersonationHeaderError } from './impersonation-headers.ts';
import { resolveRequestInfo } from './request-info.ts';
import { RequestInfoError } from './request-target.ts';
import { ImpersonationForbiddenError } from './resolve-identity.ts';
import {
  badRequest, forbidden, gatewayTimeout, internalError, serviceUnavailable, statusForError, tooManyRequests, unauthorized,
  type ForbiddenRequest, type Status,
} from './status.ts';
import { BearerTokenError } from './strip-client-headers.ts';

const request = (overrides: Partial<ForbiddenRequest> = {}): ForbiddenRequest => ({
  resourceRequest: true, verb: 'get', apiGroup: '', resource: 'pods', subresource: '', namespace: 'prod', name: 'web', path: '/api/v1/namespaces/prod/pods/web',
  ...overrides,
});

describe('Status builders', () => {
  it.each([
    ['400 BadRequest', badRequest('path segment 6 contains an encoded "/" (%2F)'),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"path segment 6 contains an encoded \\"/\\" (%2F)","reason":"BadRequest","code":400}'],
    ['401 Unauthorized, byte for byte as the API server', unauthorized(),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}'],
    ['429 TooManyRequests with the retry delay', tooManyRequests(3),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":3},"code":429}'],
    ['500 InternalError with nothing from inside', internalError(),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Internal error occurred: the gateway could not process the request","reason":"InternalError","code":500}'],
    ['503 ServiceUnavailable', serviceUnavailable('the Kubernetes API server is unavailable'),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the Kubernetes API server is unavailable","reason":"ServiceUnavailable","code":503}'],
    ['502 keeps the ServiceUnavailable reason (there is no BadGateway reason)', serviceUnavailable('the Kubernetes API server sent an invalid response', 502),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the Kubernetes API server sent an invalid response","reason":"ServiceUnavailable","code":502}'],
    ['504 Timeout worded as NewTimeoutError', gatewayTimeout('the Kubernetes API server did not answer in time'),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: the Kubernetes API server did not answer in time","reason":"Timeout","details":{},"code":504}'],
    ['504 with a retry delay', gatewayTimeout('x', 2),
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: x","reason":"Timeout","details":{"retryAfterSeconds":2},"code":504}'],
  ] as const)('%s', (_name, status: Status, json) => {
    expect(JSON.stringify(status)).toBe(json);
  });
});

describe('forbidden', () => {
  it.each([
    ['a named object in a namespace, with a reason', forbidden('bob', request({ verb: 'delete' }), 'denied by AccessPolicy airlock/sre rule no-deletes'),
      { message: 'pods "web" is forbidden: User "bob" cannot delete resource "pods" in API group "" in the namespace "prod": denied by AccessPolicy airlock/sre rule no-deletes', details: { name: 'web', kind: 'pods' } }],
    ['no reason, no trailing colon', forbidden('bob', request(), ''),
      { message: 'pods "web" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "prod"', details: { name: 'web', kind: 'pods' } }],
    ['a collection has no name', forbidden('bob', request({ verb: 'list', name: '' }), ''),
      { message: 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "prod"', details: { kind: 'pods' } }],
    ['a grouped resource is qualified by its group', forbidden('ci', request({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', name: 'api' }), ''),
      { message: 'deployments.apps "api" is forbidden: User "ci" cannot patch resource "deployments" in API group "apps" in the namespace "prod"', details: { name: 'api', group: 'apps', kind: 'deployments' } }],
    ['a subresource shows in the sentence, not in the qualified resource', forbidden('bob', request({ verb: 'create', subresource: 'exec' }), 'approval required: run kubectl approve apr-1'),
      { message: 'pods "web" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "prod": approval required: run kubectl approve apr-1', details: { name: 'web', kind: 'pods' } }],
    ['a cluster-scoped resource', forbidden('bob', request({ verb: 'delete', resource: 'nodes', namespace: '', name: 'n1' }), ''),
      { message: 'nodes "n1" is forbidden: User "bob" cannot delete resource "nodes" in API group "" at the cluster scope', details: { name: 'n1', kind: 'nodes' } }],
    ['a non-resource path', forbidden('system:anonymous', request({ resourceRequest: false, verb: 'get', resource: '', name: '', namespace: '', path: '/metrics' }), ''),
      { message: 'forbidden: User "system:anonymous" cannot get path "/metrics"', details: {} }],
    ['quotes in names are escaped as Go %q does', forbidden('a"b', request({ name: 'x"y' }), ''),
      { message: 'pods "x\\"y" is forbidden: User "a\\"b" cannot get resource "pods" in API group "" in the namespace "prod"', details: { name: 'x"y', kind: 'pods' } }],
  ])('%s', (_name, status, { message, details }) => {
    expect(status).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details, code: 403 });
  });

  it('takes a resolved RequestInfo', () => {
    const info = resolveRequestInfo('GET', '/api/v1/namespaces/prod/pods/web/exec?command=sh');
    if (info instanceof RequestInfoError) throw info;
    const status = forbidden('alice', { ...info, resourceRequest: info.isResourceRequest, apiGroup: info.apiGroup, verb: info.policyVerb }, 'no exec in prod');
    expect(status.message).toBe('pods "web" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "prod": no exec in prod');
  });
});

describe('statusForError', () => {
  it.each([
    ['an unreadable path is 400 with its message', new RequestInfoError('encoded-slash', 'path segment 6 contains an encoded "/" (%2F)', 6),
      { code: 400, reason: 'BadRequest', message: 'path segment 6 contains an encoded "/" (%2F)' }],
    ['bad impersonation headers are 400 with their message', new ImpersonationHeaderError('user-required', 'requested Impersonate-Group without impersonating a user', 'Impersonate-User'),
      { code: 400, reason: 'BadRequest', message: 'requested Impersonate-Group without impersonating a user' }],
    ['a bad credential is 401 and says only Unauthorized', new BearerTokenError('conflicting-tokens', 'the Authorization header and the WebSocket subprotocol carry different tokens'),
      { code: 401, reason: 'Unauthorized', message: 'Unauthorized' }],
    ['a refused impersonation is 403 worded as the API server words it', new ImpersonationForbiddenError('bob', [{ verb: 'impersonate', group: '', resource: 'users', name: 'alice' }]),
      { code: 403, reason: 'Forbidden', message: 'users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope' }],
    ['a refused extra names its key as a subresource', new ImpersonationForbiddenError('bob', [{ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes', name: 'admin' }]),
      { code: 403, reason: 'Forbidden', message: 'userextras.authentication.k8s.io "admin" is forbidden: User "bob" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope' }],
    ['a refused service account is scoped to its namespace', new ImpersonationForbiddenError('bob', [{ verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: 'ci', name: 'deployer' }]),
      { code: 403, reason: 'Forbidden', message: 'serviceaccounts "deployer" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ci"' }],
    ['an unknown error is a 500 that leaks nothing', new Error('ECONNRESET 10.0.0.7:6443 token=abc'),
      { code: 500, reason: 'InternalError', message: 'Internal error occurred: the gateway could not process the request' }],
    ['a thrown non-error is a 500 too', 'boom',
      { code: 500, reason: 'InternalError', message: 'Internal error occurred: the gateway could not process the request' }],
  ])('%s', (_name, error, expected) => {
    const status = statusForError(error);
    expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', ...expected });
    expect(JSON.stringify(status)).not.toMatch(/ECONNRESET|token=|different tokens/);
  });
});
