import { describe, expect, it } from 'vitest';
import { answerForError } from './error-answers.ts';
import { AuditWriteError } from '../core/audit/errors.ts';
import { AuthenticationError } from '../core/identity.ts';
import { ImpersonationHeaderError } from './authenticate/impersonation-headers.ts';
import { RequestInfoError } from './parse/request-target.ts';
import { ImpersonationForbiddenError } from './authenticate/resolve-identity.ts';
import { BearerTokenError } from './parse/strip-client-headers.ts';
import { MissingCredentialError } from './upstream/token-source.ts';
import { UpstreamError } from './upstream/upstream-client.ts';
import { ApprovalApiError } from './approve/approval-api.ts';

describe('answerForError', () => {
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
    const { status } = answerForError(error);
    expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', ...expected });
    expect(JSON.stringify(status)).not.toMatch(/ECONNRESET|token=|different tokens/);
  });
});

describe('answerForError: what the gateway logs, and what it answers for failures that are not the caller\'s', () => {
  it.each([
    ['a token no authenticator accepts is 401, logged at info with the reason', new AuthenticationError('invalid_signature', 'signature check failed'),
      { code: 401, message: 'Unauthorized' }, 'info'],
    ['an issuer that cannot be reached is 503, not 401: the token may be good', new AuthenticationError('issuer_unavailable', 'discovery failed'),
      { code: 503, reason: 'ServiceUnavailable' }, 'warn'],
    ['a TokenReview that failed is 503, not 401', new AuthenticationError('review_failed', 'TokenReview failed: connect ECONNREFUSED'),
      { code: 503, reason: 'ServiceUnavailable' }, 'warn'],
    ['an identity that cannot be forwarded says why', new AuthenticationError('unforwardable_identity', 'the username has surrounding whitespace or a control character'),
      { code: 401, message: 'Unauthorized: the username has surrounding whitespace or a control character' }, 'info'],
    ['an audit write that failed is 503 (FailClosed)', new AuditWriteError('a1', [{ sink: 'file', error: new Error('EIO') }]),
      { code: 503, reason: 'ServiceUnavailable' }, 'error'],
    ['a missing upstream credential is 503', new MissingCredentialError('/var/run/token', 'ENOENT'),
      { code: 503 }, 'error'],
    ['an API server call that failed is 503', new UpstreamError('upstream_unavailable', 'connect ECONNREFUSED'),
      { code: 503 }, 'warn'],
    ['an ApprovalRequest call that failed is 503', new ApprovalApiError('create failed', 500),
      { code: 503 }, 'warn'],
    ['an unknown error is a 500 logged at error', new TypeError('x is undefined'),
      { code: 500, reason: 'InternalError' }, 'error'],
  ])('%s', (_name, error, expected, level) => {
    const answer = answerForError(error);
    expect(answer.status).toMatchObject(expected);
    expect(answer.level).toBe(level);
    expect(JSON.stringify(answer.status)).not.toMatch(/ECONNREFUSED|EIO|signature check|discovery failed/);
  });
});
