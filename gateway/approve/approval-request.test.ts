import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../../core/identity.ts';
import type { RequestAttributes } from '../../core/policy/model.ts';
import { approvalRequestName, attemptOf, bodyDigest, buildApprovalRequest, fingerprint, fingerprintLabel, sameUser, type FingerprintInput } from './approval-request.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const attrs = (over: Partial<RequestAttributes>): RequestAttributes => ({
  resourceRequest: true, verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: '', namespace: 'prod', name: 'api', path: '/apis/apps/v1/namespaces/prod/deployments/api', ...over,
});
const user = (over: Partial<UserInfo> = {}): UserInfo => ({ username: 'ci', groups: ['system:authenticated'], extra: {}, ...over });

describe('fingerprint', () => {
  const base: FingerprintInput = {
    gateway: 'airlock-system/prod', caller: user(), effective: user({ username: 'deployer' }), method: 'PATCH',
    target: '/apis/apps/v1/namespaces/prod/deployments/api/scale', contentType: 'application/merge-patch+json',
    bodyDigest: bodyDigest(Buffer.from('{"spec":{"replicas":0}}')),
  };

  it('is stable for the same request (method and content type case aside)', () => {
    expect(fingerprint(base)).toBe(fingerprint({ ...base, method: 'patch', contentType: ' Application/Merge-Patch+JSON ' }));
    expect(fingerprint(base)).toBe(fingerprint({ ...base, caller: user({ extra: {} }) }));
  });

  it('keeps extra keys in any order the same identity', () => {
    const a = user({ extra: { a: ['1'], b: ['2'] } });
    const b = user({ extra: { b: ['2'], a: ['1'] } });
    expect(fingerprint({ ...base, effective: a })).toBe(fingerprint({ ...base, effective: b }));
  });

  it.each<[string, Partial<FingerprintInput>]>([
    ['another gateway', { gateway: 'airlock-system/dev' }],
    ['another caller', { caller: user({ username: 'other' }) }],
    ['a caller with another uid', { caller: user({ uid: 'u-2' }) }],
    ['a caller with another group', { caller: user({ groups: ['system:authenticated', 'ops'] }) }],
    ['a caller with another extra', { caller: user({ extra: { 'authentication.kubernetes.io/credential-id': ['JTI=2'] } }) }],
    ['another effective user', { effective: user({ username: 'admin' }) }],
    ['one more impersonated group', { effective: user({ username: 'deployer', groups: ['system:authenticated', 'ops'] }) }],
    ['the same groups in another order', { effective: user({ username: 'deployer', groups: ['ops', 'system:authenticated'] }) }],
    ['an impersonated uid', { effective: user({ username: 'deployer', uid: '42' }) }],
    ['an impersonated extra', { effective: user({ username: 'deployer', extra: { scopes: ['admin'] } }) }],
    ['another method', { method: 'PUT' }],
    ['a query', { target: `${base.target}?dryRun=All` }],
    ['another content type (strategic merge)', { contentType: 'application/strategic-merge-patch+json' }],
    ['an apply patch', { contentType: 'application/apply-patch+yaml' }],
    ['no content type', { contentType: '' }],
    ['another body', { bodyDigest: bodyDigest(Buffer.from('{"spec":{"replicas":3}}')) }],
  ])('changes with %s', (_what, change) => {
    expect(fingerprint({ ...base, ...change })).not.toBe(fingerprint(base));
  });

  it('fits a label value', () => {
    expect(fingerprintLabel(fingerprint(base))).toMatch(/^[0-9a-f]{63}$/);
  });

  it('digests the empty body like sha256 of nothing', () => {
    expect(bodyDigest(Buffer.alloc(0))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('sameUser', () => {
  it.each<[string, UserInfo, boolean]>([
    ['the same user', user(), true],
    ['another username', user({ username: 'x' }), false],
    ['the same username with another group', user({ groups: ['system:authenticated', 'ops'] }), false],
    ['the same username with a uid', user({ uid: '1' }), false],
  ])('%s', (_what, other, same) => {
    expect(sameUser(user(), other)).toBe(same);
  });
});

describe('buildApprovalRequest', () => {
  const input = {
    gateway: { name: 'ci-gateway', namespace: 'airlock-system' }, request: attrs({ subresource: 'scale' }),
    caller: { user: user({ username: 'oidc:ci', uid: 'u1', extra: { b: ['2'], a: ['1'] } }), method: 'oidc' as const, issuer: 'https://issuer.example' },
    effective: { username: 'deployer', uid: 'd1', groups: ['deployers', 'system:authenticated'], extra: { scopes: ['deploy'] } },
    policy: { namespace: 'airlock-system', name: 'payments', rule: 'scale-needs-approval' },
    settings: { approvers: { users: ['alice'] }, mode: 'Reject' as const, timeout: '30m', reusable: true },
    bodyDigest: 'sha256:abc', contentType: 'application/merge-patch+json', fingerprint: 'sha256:def', summary: 'scale deployment prod/api to 0 replicas',
    described: { changes: [{ path: '.spec.replicas', value: '0' }] }, now: NOW, name: 'patch-deployments-0123456789ab-0',
  };

  it('records both whole identities, the exact request with its changes, the rule and the deadlines', () => {
    const ar = buildApprovalRequest(input) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(ar.metadata).toMatchObject({ name: 'patch-deployments-0123456789ab-0', namespace: 'airlock-system', labels: { 'airlock.dev/gateway': 'ci-gateway', 'airlock.dev/fingerprint': 'def' } });
    expect(ar.spec).toEqual({
      requester: {
        caller: { username: 'oidc:ci', uid: 'u1', groups: ['system:authenticated'], extra: { a: ['1'], b: ['2'] }, authentication: 'oidc https://issuer.example' },
        effective: { username: 'deployer', uid: 'd1', groups: ['deployers', 'system:authenticated'], extra: { scopes: ['deploy'] } },
      },
      request: {
        verb: 'patch', apiGroup: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'prod', name: 'api',
        summary: 'scale deployment prod/api to 0 replicas', bodyDigest: 'sha256:abc', fingerprint: 'sha256:def',
        contentType: 'application/merge-patch+json', changes: [{ path: '.spec.replicas', value: '0' }],
      },
      policy: { namespace: 'airlock-system', name: 'payments', rule: 'scale-needs-approval' }, approvers: { users: ['alice'] },
      minApprovals: 1, mode: 'Reject', gateway: 'ci-gateway', expiresAt: '2026-11-24T12:30:00Z', grantTTL: '10m', reusable: true,
    });
  });

  it('records an impersonation of oneself with other groups as an effective identity', () => {
    const ar = buildApprovalRequest({ ...input, effective: { ...input.caller.user, groups: ['system:authenticated', 'ops'] } }) as { spec: { requester: { effective?: unknown } } };
    expect(ar.spec.requester.effective).toEqual({ username: 'oidc:ci', uid: 'u1', groups: ['system:authenticated', 'ops'], extra: { a: ['1'], b: ['2'] } });
  });

  it('leaves the effective identity out when the caller acts as itself, and names what it cannot show', () => {
    const ar = buildApprovalRequest({ ...input, effective: input.caller.user, described: { changes: [], note: 'the body is protobuf' } }) as { spec: { requester: { effective?: unknown }; request: Record<string, unknown> } };
    expect(ar.spec.requester.effective).toBeUndefined();
    expect(ar.spec.request['changes']).toBeUndefined();
    expect(ar.spec.request['changesNote']).toBe('the body is protobuf');
  });
});

describe('approvalRequestName: one object per held request, whichever replica holds it', () => {
  const policy = { namespace: 'airlock-system', name: 'payments', rule: 'scale' };
  const name = (over: Partial<Parameters<typeof approvalRequestName>[0]> = {}): string => approvalRequestName({ verb: 'patch', resource: 'deployments', fingerprint: 'sha256:abc', policy, attempt: 0, ...over });

  it('is the same for the same request and rule, and a valid object name', () => {
    expect(name()).toBe(name());
    expect(name()).toMatch(/^patch-deployments-[0-9a-f]{12}-0$/);
  });

  it.each([
    ['another body or identity (fingerprint)', { fingerprint: 'sha256:abd' }],
    ['another rule', { policy: { ...policy, rule: 'other' } }],
    ['the next attempt', { attempt: 1 }],
  ])('differs for %s', (_name, over) => {
    expect(name(over)).not.toBe(name());
  });

  it('reads back its attempt, and only from names of the same request', () => {
    expect(attemptOf(name({ attempt: 7 }), name())).toBe(7);
    expect(attemptOf(name({ fingerprint: 'sha256:zzz', attempt: 3 }), name())).toBeUndefined();
    expect(attemptOf('patch-deployments-x7k2q', name())).toBeUndefined();
  });
});
