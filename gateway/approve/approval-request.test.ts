import { describe, expect, it } from 'vitest';
import type { RequestAttributes } from '../policy/model.ts';
import {
  approvalState, bodyDigest, buildApprovalRequest, fingerprint, fingerprintLabel, parseDuration, summarize,
  type ApprovalDecision, type ApprovalRequestObject,
} from './approval-request.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const attrs = (over: Partial<RequestAttributes>): RequestAttributes => ({
  resourceRequest: true, verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: '', namespace: 'prod', name: 'api', path: '/apis/apps/v1/namespaces/prod/deployments/api', ...over,
});

describe('summarize', () => {
  it.each([
    { name: 'a scale patch', request: attrs({ subresource: 'scale' }), body: { spec: { replicas: 0 } }, expected: 'scale deployment prod/api to 0 replicas' },
    { name: 'a scale to one', request: attrs({ subresource: 'scale', verb: 'update' }), body: { spec: { replicas: 1 } }, expected: 'scale deployment prod/api to 1 replica' },
    { name: 'a namespace delete', request: attrs({ verb: 'delete', apiGroup: '', resource: 'namespaces', namespace: '', name: 'payments' }), body: undefined, expected: 'delete namespace payments' },
    { name: 'an exec', request: attrs({ verb: 'create', apiGroup: '', resource: 'pods', subresource: 'exec', name: 'web-0' }), body: undefined, expected: 'create pod exec prod/web-0' },
    { name: 'a collection delete', request: attrs({ verb: 'deletecollection', apiGroup: '', resource: 'secrets', name: '' }), body: undefined, expected: 'deletecollection secret in namespace prod' },
    { name: 'a custom resource', request: attrs({ verb: 'delete', apiGroup: 'db.example', resource: 'clusters', name: 'main' }), body: undefined, expected: 'delete clusters prod/main' },
    { name: 'a non-resource path', request: attrs({ resourceRequest: false, verb: 'post', path: '/logs/x' }), body: undefined, expected: 'post /logs/x' },
  ])('$name: $expected', ({ request, body, expected }) => {
    expect(summarize(request, body)).toBe(expected);
  });
});

describe('fingerprint', () => {
  const base = { caller: 'ci', effective: 'ci', method: 'PATCH', target: '/apis/apps/v1/namespaces/prod/deployments/api/scale', bodyDigest: bodyDigest(Buffer.from('{"spec":{"replicas":0}}')) };
  it('is stable for the same request and changes with any part of it', () => {
    expect(fingerprint(base)).toBe(fingerprint({ ...base, method: 'patch' }));
    for (const changed of [
      { ...base, caller: 'other' }, { ...base, effective: 'deployer' }, { ...base, method: 'PUT' },
      { ...base, target: `${base.target}?dryRun=All` }, { ...base, bodyDigest: bodyDigest(Buffer.from('{"spec":{"replicas":3}}')) },
    ]) expect(fingerprint(changed)).not.toBe(fingerprint(base));
  });
  it('fits a label value', () => {
    expect(fingerprintLabel(fingerprint(base))).toMatch(/^[0-9a-f]{63}$/);
  });
  it('digests the empty body like sha256 of nothing', () => {
    expect(bodyDigest(Buffer.alloc(0))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('parseDuration', () => {
  it.each([['10s', 10_000], ['15m', 900_000], ['2h', 7_200_000], ['1d', undefined], ['', undefined], [undefined, undefined]] as const)('%s → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('buildApprovalRequest', () => {
  it('records both identities, the exact request, the rule and the deadlines', () => {
    const ar = buildApprovalRequest({
      gateway: { name: 'ci-gateway', namespace: 'airlock-system' }, request: attrs({ subresource: 'scale' }),
      caller: { user: { username: 'oidc:ci', groups: ['system:authenticated'], extra: {} }, method: 'oidc', issuer: 'https://issuer.example' },
      effective: { username: 'deployer', groups: ['deployers'], extra: {} },
      policy: { namespace: 'airlock-system', name: 'payments', rule: 'scale-needs-approval' },
      settings: { approvers: { users: ['alice'] }, mode: 'Reject', timeout: '30m' },
      bodyDigest: 'sha256:abc', fingerprint: 'sha256:def', summary: 'scale deployment prod/api to 0 replicas', now: NOW,
    }) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(ar.metadata).toMatchObject({ namespace: 'airlock-system', labels: { 'airlock.dev/gateway': 'ci-gateway', 'airlock.dev/fingerprint': 'def' } });
    expect(ar.spec).toMatchObject({
      requester: { caller: { username: 'oidc:ci', authentication: 'oidc https://issuer.example' }, effective: { username: 'deployer' } },
      request: { verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'prod', name: 'api', bodyDigest: 'sha256:abc', fingerprint: 'sha256:def' },
      policy: { rule: 'scale-needs-approval' }, approvers: { users: ['alice'] }, minApprovals: 1, mode: 'Reject', gateway: 'ci-gateway',
      expiresAt: '2026-11-24T12:30:00Z', grantTTL: '10m',
    });
  });
});

describe('approvalState', () => {
  const decision = (d: 'Approve' | 'Deny', by: string, minutesAgo = 1, reason?: string): ApprovalDecision => ({
    decision: d, by, at: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString(), ...(reason === undefined ? {} : { reason }),
  });
  const ar = (status: ApprovalRequestObject['status'], spec: Partial<ApprovalRequestObject['spec']> = {}): ApprovalRequestObject => ({
    metadata: { name: 'ar' },
    spec: {
      requester: { caller: { username: 'ci' } }, request: { fingerprint: 'f', summary: 's' }, approvers: { users: ['alice', 'bob'] },
      expiresAt: '2026-11-24T12:10:00Z', grantTTL: '10m', ...spec,
    },
    ...(status === undefined ? {} : { status }),
  });
  it.each([
    { name: 'no decision yet', object: ar(undefined), expected: { state: 'pending' } },
    { name: 'one approval of one needed', object: ar({ decisions: [decision('Approve', 'alice')] }), expected: { state: 'approved' } },
    { name: 'one approval of two needed', object: ar({ decisions: [decision('Approve', 'alice')] }, { minApprovals: 2 }), expected: { state: 'pending' } },
    { name: 'two approvers of two needed', object: ar({ decisions: [decision('Approve', 'alice'), decision('Approve', 'bob')] }, { minApprovals: 2 }), expected: { state: 'approved' } },
    { name: 'an approval by someone not listed', object: ar({ decisions: [decision('Approve', 'mallory')] }), expected: { state: 'pending' } },
    { name: 'any deny decides', object: ar({ decisions: [decision('Approve', 'alice'), decision('Deny', 'bob', 1, 'no')] }, { minApprovals: 2 }), expected: { state: 'denied', by: 'bob', reason: 'no' } },
    { name: 'a grant past grantTTL', object: ar({ decisions: [decision('Approve', 'alice', 11)] }), expected: { state: 'expired', what: 'grant' } },
    { name: 'a grant window set by the operator', object: ar({ phase: 'Approved', grant: { notAfter: '2026-11-24T11:59:00Z' } }), expected: { state: 'expired', what: 'grant' } },
    { name: 'a pending request past expiresAt', object: ar(undefined, { expiresAt: '2026-11-24T11:00:00Z' }), expected: { state: 'expired', what: 'request' } },
    { name: 'a consumed grant', object: ar({ phase: 'Consumed', decisions: [decision('Approve', 'alice')] }), expected: { state: 'consumed' } },
    { name: 'Expired set by the operator', object: ar({ phase: 'Expired' }), expected: { state: 'expired', what: 'request' } },
  ])('$name', ({ object, expected }) => {
    expect(approvalState(object, NOW)).toEqual(expected);
  });
});
