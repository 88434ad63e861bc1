import { describe, expect, it } from 'vitest';
import { resolveRequestInfo } from './parse/request-info.ts';
import { RequestInfoError } from './parse/request-target.ts';
import {
  badRequest, forbidden, gatewayTimeout, internalError, invalid, serviceUnavailable, tooManyRequests, unauthorized,
  type ForbiddenRequest, type Status,
} from './status.ts';

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

describe('invalid', () => {
  it('is worded as the API server words a validation error, one cause', () => {
    const status = invalid({ kind: 'Secret', name: 'db', group: '' }, [{ field: 'data.password', message: 'Invalid value: "KioqTUFTS0VEKioq": the mask placeholder' }]);
    expect(status).toMatchObject({
      code: 422, reason: 'Invalid', message: 'Secret "db" is invalid: data.password: Invalid value: "KioqTUFTS0VEKioq": the mask placeholder',
      details: { name: 'db', kind: 'Secret', causes: [{ reason: 'FieldValueInvalid', field: 'data.password' }] },
    });
  });

  it('lists several causes in brackets and names the group', () => {
    const status = invalid({ kind: 'Widget', name: '', group: 'acme.io' }, [{ field: 'a', message: 'x' }, { field: 'b', message: 'y' }]);
    expect(status.message).toBe('Widget is invalid: [a: x, b: y]');
    expect(status.details).toMatchObject({ group: 'acme.io', kind: 'Widget' });
  });
});
