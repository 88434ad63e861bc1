import { describe, expect, it } from 'vitest';
import type { ApprovalDecision, ApprovalRequestObject } from './approval-object.ts';
import { approvalState, countedApprovals, grantWindow, judgementOf, MAX_CLOCK_SKEW_MS, whyNotCounted, type Judgement } from './approval-state.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const at = (secondsFromNow: number): string => new Date(NOW.getTime() + secondsFromNow * 1000).toISOString();
const approve = (by: string, secondsFromNow = -60, groups?: string[]): ApprovalDecision => ({ decision: 'Approve', by, at: at(secondsFromNow), ...(groups === undefined ? {} : { groups }) });
const deny = (by: string, reason = 'no'): ApprovalDecision => ({ decision: 'Deny', by, reason, at: at(-30) });

function request(status: ApprovalRequestObject['status'], spec: Partial<ApprovalRequestObject['spec']> = {}): ApprovalRequestObject {
  return {
    metadata: { name: 'ar' },
    spec: {
      requester: { caller: { username: 'ci' }, effective: { username: 'deployer' } }, request: { fingerprint: 'f', summary: 's' },
      approvers: { users: ['alice', 'bob', 'ci', 'deployer'], groups: ['sre'] }, expiresAt: at(600), grantTTL: '10m', ...spec,
    },
    ...(status === undefined ? {} : { status }),
  };
}

describe('whyNotCounted', () => {
  const judged: Judgement & { expiresAt: string } = { ...judgementOf(request(undefined).spec), expiresAt: at(600) };
  it.each<[string, ApprovalDecision, string | undefined]>([
    ['a listed user', approve('alice'), undefined],
    ['a member of a listed group, as recorded', approve('carol', -60, ['sre']), undefined],
    ['a deny', deny('alice'), 'not an approval'],
    ['the caller, though listed', approve('ci'), 'by the requester'],
    ['the impersonated user, though listed', approve('deployer'), 'by the requester'],
    ['someone not listed', approve('mallory'), 'not a listed approver'],
    ['someone whose recorded groups are not approver groups', approve('mallory', -60, ['ops']), 'not a listed approver'],
    ['a decision dated a year ahead', approve('alice', 365 * 24 * 3600), 'dated ahead of the clock'],
    ['a decision dated just beyond the clock skew', approve('alice', MAX_CLOCK_SKEW_MS / 1000 + 1), 'dated ahead of the clock'],
    ['a decision dated within the clock skew', approve('alice', MAX_CLOCK_SKEW_MS / 1000 - 1), undefined],
    ['a decision with an unreadable time', { decision: 'Approve', by: 'alice', at: 'soon' }, 'dated ahead of the clock'],
  ])('%s', (_what, decision, why) => {
    expect(whyNotCounted(decision, judged, NOW)).toBe(why);
  });

  it('refuses a decision dated after the request expired', () => {
    expect(whyNotCounted(approve('alice', 10), { ...judged, expiresAt: at(-60) }, new Date(NOW.getTime() + 20_000))).toBe('dated after the request expired');
  });
});

describe('countedApprovals', () => {
  it('counts each reviewer once, in order', () => {
    const ar = request({ decisions: [approve('alice', -90), approve('mallory'), approve('alice', -10), approve('bob', -5)] });
    expect(countedApprovals(ar, judgementOf(ar.spec), NOW).map((d) => d.by)).toEqual(['alice', 'bob']);
  });
});

describe('grantWindow', () => {
  const quorum = approve('alice', -60);
  it('is grantTTL from the approving decision when the operator has not observed it yet', () => {
    expect(grantWindow(quorum, undefined, 600_000)).toEqual({ notBefore: NOW.getTime() - 60_000, notAfter: NOW.getTime() + 540_000 });
  });
  it('starts when the operator observed it, and ends no later than the decision allows', () => {
    const grant = { notBefore: at(-59), notAfter: at(541) };
    expect(grantWindow(quorum, grant, 600_000)).toEqual({ notBefore: NOW.getTime() - 59_000, notAfter: NOW.getTime() + 540_000 });
  });
  it('is never longer than grantTTL, whatever the grant says', () => {
    const grant = { notBefore: at(-59), notAfter: at(365 * 24 * 3600) };
    expect(grantWindow(quorum, grant, 600_000).notAfter).toBe(NOW.getTime() + 540_000);
  });
  it('is empty when the grant has no readable end', () => {
    const window = grantWindow(quorum, { notBefore: at(-59) }, 600_000);
    expect(window.notAfter).toBeLessThanOrEqual(window.notBefore);
  });
});

describe('approvalState', () => {
  it.each<[string, ApprovalRequestObject, ReturnType<typeof approvalState>['state']]>([
    ['no decision yet', request(undefined), 'pending'],
    ['one approval of one needed', request({ decisions: [approve('alice')] }), 'approved'],
    ['one approval of two needed', request({ decisions: [approve('alice')] }, { minApprovals: 2 }), 'pending'],
    ['two approvers of two needed', request({ decisions: [approve('alice'), approve('bob')] }, { minApprovals: 2 }), 'approved'],
    ['a group member recorded by admission', request({ decisions: [approve('carol', -60, ['sre'])] }), 'approved'],
    ['a group member without the group recorded', request({ decisions: [approve('carol')] }), 'pending'],
    ['an approval by someone not listed', request({ decisions: [approve('mallory')] }), 'pending'],
    ['an approval by the caller', request({ decisions: [approve('ci')] }), 'pending'],
    ['an approval by the impersonated user', request({ decisions: [approve('deployer')] }), 'pending'],
    ['phase Approved with no decisions', request({ phase: 'Approved' }), 'pending'],
    ['phase Approved with a non-approver\'s decision', request({ phase: 'Approved', decisions: [approve('mallory')], grant: { notBefore: at(-1), notAfter: at(600) } }), 'pending'],
    ['an approval dated a year ahead', request({ decisions: [approve('alice', 365 * 24 * 3600)] }), 'pending'],
    ['an approval dated a year ahead with the grant the old operator wrote from it', request({ phase: 'Approved', decisions: [approve('alice', 365 * 24 * 3600)], grant: { notBefore: at(365 * 24 * 3600), notAfter: at(365 * 24 * 3600 + 600) } }), 'pending'],
    ['any deny decides', request({ decisions: [approve('alice'), deny('bob')] }, { minApprovals: 2 }), 'denied'],
    ['a grant past grantTTL', request({ decisions: [approve('alice', -11 * 60)] }), 'expired'],
    ['a grant window the operator ended', request({ phase: 'Approved', decisions: [approve('alice')], grant: { notBefore: at(-120), notAfter: at(-1) } }), 'expired'],
    ['a grant window the operator has not started (beyond clock skew)', request({ phase: 'Approved', decisions: [approve('alice')], grant: { notBefore: at(120), notAfter: at(600) } }), 'pending'],
    ['a pending request past expiresAt', request(undefined, { expiresAt: at(-60) }), 'expired'],
    ['a consumed grant', request({ phase: 'Consumed', decisions: [approve('alice')] }), 'consumed'],
    ['Expired set by the operator', request({ phase: 'Expired' }), 'expired'],
    ['Expired set by the operator on an approved request', request({ phase: 'Expired', decisions: [approve('alice')] }), 'expired'],
    ['Denied set by the operator', request({ phase: 'Denied' }), 'denied'],
  ])('%s: %s', (_what, ar, state) => {
    expect(approvalState(ar, NOW).state).toBe(state);
  });

  it('names the approvals and the window of an approved request', () => {
    const state = approvalState(request({ decisions: [approve('alice', -60)] }), NOW);
    expect(state).toEqual({ state: 'approved', approvals: [approve('alice', -60)], window: { notBefore: NOW.getTime() - 60_000, notAfter: NOW.getTime() + 540_000 } });
  });

  it('measures the window from the approval that completed the quorum', () => {
    const ar = request({ decisions: [approve('alice', -9 * 60), approve('bob', -60)] }, { minApprovals: 2 });
    const state = approvalState(ar, NOW);
    expect(state.state === 'approved' && state.window.notBefore).toBe(NOW.getTime() - 60_000);
  });

  it('judges by the rule given (the gateway\'s), not the request\'s own settings', () => {
    const ar = request({ decisions: [approve('alice')] });
    const stricter: Judgement = { rule: { approvers: { users: ['bob'] }, minApprovals: 1, grantMs: 600_000 }, requester: { caller: 'ci' } };
    expect(approvalState(ar, NOW, stricter).state).toBe('pending');
  });
});
