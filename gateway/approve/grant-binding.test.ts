import { describe, expect, it } from 'vitest';
import type { ApprovalRequestObject } from '../../core/approval/approval-object.ts';
import { bindingMismatch, judgementFor, type GrantExpectation } from './grant-binding.ts';

const expectation: GrantExpectation = {
  gateway: 'prod', fingerprint: 'sha256:f',
  policy: { namespace: 'airlock-system', name: 'payments', rule: 'scale' },
  settings: { approvers: { users: ['alice', 'bob'], groups: ['sre'] }, minApprovals: 1, mode: 'Reject', grantTTL: '10m', reusable: true },
};

type SpecChange = { [K in keyof ApprovalRequestObject['spec']]?: ApprovalRequestObject['spec'][K] | undefined };

function stored(spec: SpecChange = {}): ApprovalRequestObject {
  return {
    metadata: { name: 'ar', namespace: 'airlock-system' },
    spec: {
      requester: { caller: { username: 'ci' } }, request: { fingerprint: 'sha256:f', summary: 's' }, gateway: 'prod',
      policy: { namespace: 'airlock-system', name: 'payments', rule: 'scale' }, approvers: { users: ['bob', 'alice'], groups: ['sre'] },
      minApprovals: 1, reusable: true, expiresAt: '2030-01-01T00:00:00Z', grantTTL: '10m', ...spec,
    } as ApprovalRequestObject['spec'],
  };
}

describe('bindingMismatch', () => {
  it('accepts the request held by this gateway under this rule (approvers in any order)', () => {
    expect(bindingMismatch(stored(), expectation)).toBeUndefined();
  });

  it.each<[string, SpecChange, string]>([
    ['another fingerprint', { request: { fingerprint: 'sha256:g', summary: 's' } }, 'another request (fingerprint)'],
    ['another gateway', { gateway: 'dev' }, 'held by gateway dev'],
    ['no gateway', { gateway: undefined }, 'held by gateway (none)'],
    ['another policy', { policy: { namespace: 'airlock-system', name: 'other', rule: 'scale' } }, 'requested under another policy rule'],
    ['the same policy name in another namespace', { policy: { namespace: 'team-b', name: 'payments', rule: 'scale' } }, 'requested under another policy rule'],
    ['another rule', { policy: { namespace: 'airlock-system', name: 'payments', rule: 'other' } }, 'requested under another policy rule'],
    ['no policy', { policy: undefined }, 'requested under another policy rule'],
    ['other approver users', { approvers: { users: ['carol'], groups: ['sre'] } }, 'other approvers'],
    ['one approver user fewer', { approvers: { users: ['alice'], groups: ['sre'] } }, 'other approvers'],
    ['other approver groups', { approvers: { users: ['alice', 'bob'], groups: ['dev'] } }, 'other approvers'],
    ['fewer approvals needed', { minApprovals: 1 }, 'another number of approvals'],
    ['another reuse setting', { reusable: false }, 'another reuse setting'],
  ])('refuses %s', (_what, spec, why) => {
    const expected = why === 'another number of approvals' ? { ...expectation, settings: { ...expectation.settings, minApprovals: 2 } } : expectation;
    expect(bindingMismatch(stored(spec), expected)).toBe(why);
  });
});

describe('judgementFor', () => {
  it('judges by the rule with the shorter grantTTL and the request\'s identities', () => {
    const judged = judgementFor(stored({ grantTTL: '1h' }), { ...expectation.settings, grantTTL: '30s' }, { caller: 'ci', effective: 'deployer' });
    expect(judged).toEqual({ rule: { approvers: expectation.settings.approvers, minApprovals: 1, grantMs: 30_000 }, requester: { caller: 'ci', effective: 'deployer' } });
    expect(judgementFor(stored({ grantTTL: '10s' }), expectation.settings, { caller: 'ci' }).rule.grantMs).toBe(10_000);
  });
});
