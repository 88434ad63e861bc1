import { slackMessage } from './approvalrequest.ts';
import { describe, expect, it } from 'vitest';
import { planApprovalRequest, type ApprovalRequestWithMeta } from './approval-phase.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const RETENTION = 60 * 60_000;

function request(status: ApprovalRequestWithMeta['status'], over: { expiresAt?: string; created?: string; minApprovals?: number } = {}): ApprovalRequestWithMeta {
  return {
    metadata: { name: 'scale-prod', namespace: 'airlock-system', creationTimestamp: over.created ?? '2026-11-24T11:55:00Z' },
    spec: {
      requester: { caller: { username: 'oidc:ci' }, effective: { username: 'deployer' } },
      request: { fingerprint: 'f', summary: 'scale deployment prod/api to 0 replicas' },
      approvers: { users: ['alice', 'bob'] }, minApprovals: over.minApprovals ?? 1,
      expiresAt: over.expiresAt ?? '2026-11-24T12:10:00Z', grantTTL: '10m',
    },
    ...(status === undefined ? {} : { status }),
  };
}
const approve = (by: string, at = '2026-11-24T11:58:00Z', reason = 'ok'): { decision: 'Approve'; by: string; at: string; reason: string } => ({ decision: 'Approve', by, at, reason });

describe('planApprovalRequest', () => {
  it('a new request: Pending, a Requested event that says how to approve, and a wake-up at its expiry', () => {
    const plan = planApprovalRequest(request(undefined), NOW, RETENTION);
    expect(plan.status).toEqual({ phase: 'Pending' });
    expect(plan.events).toEqual([{ type: 'Normal', reason: 'Requested', message: 'oidc:ci (as deployer): scale deployment prod/api to 0 replicas; approve with: kubectl approve scale-prod -n airlock-system' }]);
    expect(plan.requeueAfterMs).toBe(10 * 60_000);
  });

  it('an approval: Approved with the grant window from when the operator saw it, ending grantTTL after the decision, the approver named, the time to decide', () => {
    const plan = planApprovalRequest(request({ phase: 'Pending', decisions: [approve('alice')] }), NOW, RETENTION);
    expect(plan.status).toEqual({ phase: 'Approved', grant: { notBefore: '2026-11-24T12:00:00Z', notAfter: '2026-11-24T12:08:00Z' } });
    expect(plan.events.map((e) => e.message)).toEqual(['approved by alice: ok (oidc:ci (as deployer): scale deployment prod/api to 0 replicas)']);
    expect(plan.decidedAfterSeconds).toBe(300);
    expect(plan.requeueAfterMs).toBe(8 * 60_000);
  });

  it('a decision dated a little ahead (within clock skew): the window still starts and ends by the operator\'s clock', () => {
    const plan = planApprovalRequest(request({ phase: 'Pending', decisions: [approve('alice', '2026-11-24T12:00:20Z')] }), NOW, RETENTION);
    expect(plan.status).toEqual({ phase: 'Approved', grant: { notBefore: '2026-11-24T12:00:00Z', notAfter: '2026-11-24T12:10:00Z' } });
  });

  it.each([
    ['dated a year ahead', approve('alice', '2027-11-24T12:00:00Z')],
    ['by the requester', approve('oidc:ci')],
    ['by the impersonated user', approve('deployer')],
    ['by someone not listed', approve('mallory')],
  ])('an approval %s is not counted: no Approved phase, no grant', (_what, decision) => {
    const spec = request({ phase: 'Pending', decisions: [decision] });
    const listed = { ...spec, spec: { ...spec.spec, approvers: { users: ['alice', 'bob', 'oidc:ci', 'deployer'] } } };
    expect(planApprovalRequest(listed, NOW, RETENTION).status).toBeUndefined();
  });

  it('counts a member of an approver group by the group admission recorded in the decision', () => {
    const spec = request({ phase: 'Pending', decisions: [{ ...approve('carol'), groups: ['sre'] }] });
    const byGroup = { ...spec, spec: { ...spec.spec, approvers: { groups: ['sre'] } } };
    expect(planApprovalRequest(byGroup, NOW, RETENTION).status?.phase).toBe('Approved');
    const unrecorded = { ...byGroup, status: { phase: 'Pending' as const, decisions: [approve('carol')] } };
    expect(planApprovalRequest(unrecorded, NOW, RETENTION).status).toBeUndefined();
  });

  it('waits for the second of two approvals', () => {
    expect(planApprovalRequest(request({ phase: 'Pending', decisions: [approve('alice')] }, { minApprovals: 2 }), NOW, RETENTION).status).toBeUndefined();
  });

  it('a deny decides at once, as a Warning', () => {
    const plan = planApprovalRequest(request({ phase: 'Pending', decisions: [approve('alice'), { decision: 'Deny', by: 'bob', at: '2026-11-24T11:59:00Z', reason: 'freeze' }] }, { minApprovals: 2 }), NOW, RETENTION);
    expect(plan.status).toEqual({ phase: 'Denied' });
    expect(plan.events[0]).toMatchObject({ type: 'Warning', reason: 'Denied', message: expect.stringContaining('denied by bob: freeze') as unknown });
  });

  it('expires a pending request past expiresAt, and an unused grant past its window', () => {
    expect(planApprovalRequest(request({ phase: 'Pending' }, { expiresAt: '2026-11-24T11:59:00Z' }), NOW, RETENTION).status).toEqual({ phase: 'Expired' });
    const stale = request({ phase: 'Approved', decisions: [approve('alice', '2026-11-24T11:40:00Z')], grant: { notBefore: '2026-11-24T11:40:00Z', notAfter: '2026-11-24T11:50:00Z' } });
    expect(planApprovalRequest(stale, NOW, RETENTION)).toMatchObject({ status: { phase: 'Expired' }, events: [{ reason: 'Expired', message: expect.stringContaining('not used in time') as unknown }] });
  });

  it('keeps a finished request for the retention period after creation, then removes it', () => {
    expect(planApprovalRequest(request({ phase: 'Consumed' }), NOW, RETENTION)).toEqual({ events: [], remove: false, requeueAfterMs: 55 * 60_000 });
    expect(planApprovalRequest(request({ phase: 'Denied' }, { created: '2026-11-24T10:00:00Z' }), NOW, RETENTION)).toEqual({ events: [], remove: true });
  });

  it('writes nothing for an Approved request still inside its window', () => {
    const plan = planApprovalRequest(request({ phase: 'Approved', decisions: [approve('alice')], grant: { notBefore: '2026-11-24T11:58:00Z', notAfter: '2026-11-24T12:08:00Z' } }), NOW, RETENTION);
    expect(plan).toEqual({ events: [], remove: false, requeueAfterMs: 8 * 60_000 });
  });
});

describe('the notification of a new ApprovalRequest', () => {
  it('names the request and the command that approves it', () => {
    const ar = { metadata: { name: 'scale-prod', namespace: 'airlock-system' } } as unknown as Parameters<typeof slackMessage>[0];
    const text = slackMessage(ar, { type: 'Normal', reason: 'Requested', message: 'oidc:ci (as deployer): scale deployment prod/api to 0 replicas; approve with: kubectl approve scale-prod -n airlock-system' }).text;
    expect(text).toContain('scale deployment prod/api to 0 replicas');
    expect(text).toContain('kubectl approve scale-prod -n airlock-system');
  });
});
