// The ApprovalRequest controller's write of a phase the object has already moved past (a gateway
// consumed the grant after the cache was read): expected, handled quietly; any other refusal is
// still an error that is retried and reported.
import { ApiException } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { reconcileApprovalRequest, type ApprovalReconcileDeps } from './approvalrequest.ts';
import type { ApprovalRequestWithMeta } from './approval-phase.ts';

const NOW = new Date('2026-11-24T12:00:00Z');

/** Pending with an approving decision: the controller plans phase Approved. */
const cached: ApprovalRequestWithMeta = {
  metadata: { name: 'scale-prod', namespace: 'airlock-system', resourceVersion: '10', creationTimestamp: '2026-11-24T11:55:00Z' },
  spec: {
    requester: { caller: { username: 'oidc:ci' } }, request: { fingerprint: 'f', summary: 'scale' },
    approvers: { users: ['alice'] }, minApprovals: 1, expiresAt: '2026-11-24T12:10:00Z', grantTTL: '10m',
  },
  status: { phase: 'Pending', decisions: [{ decision: 'Approve', by: 'alice', at: '2026-11-24T11:58:00Z' }] },
};

function deps(write: () => Promise<unknown>, live: string | undefined, logged: string[]): ApprovalReconcileDeps {
  const log = pino({ level: 'debug' }, { write: (line: string) => { logged.push(line); } });
  return {
    get: () => cached, all: () => [cached], writeStatus: write, liveVersion: () => Promise.resolve(live),
    remove: () => Promise.resolve(), recordEvent: () => Promise.resolve(), now: () => NOW, retentionMs: 3_600_000, log,
  };
}

const refused = (code: number): Promise<never> => Promise.reject(new ApiException(code, 'refused', JSON.stringify({ kind: 'Status', code, reason: code === 422 ? 'Invalid' : 'Conflict', message: 'phase only moves forward' }), {}));

describe('reconcileApprovalRequest: a stale view', () => {
  it.each([409, 422])('handles a %i from an object that moved on quietly (debug), without an error', async (code) => {
    const logged: string[] = [];
    await expect(reconcileApprovalRequest('airlock-system/scale-prod', deps(() => refused(code), '11', logged))).resolves.toEqual({});
    expect(logged.map((l) => (JSON.parse(l) as { level: number }).level)).toEqual([20]);
  });

  it('still fails (retried and reported by the controller) when the object has not changed', async () => {
    await expect(reconcileApprovalRequest('airlock-system/scale-prod', deps(() => refused(422), '10', []))).rejects.toBeInstanceOf(ApiException);
  });

  it('still fails on any other error', async () => {
    await expect(reconcileApprovalRequest('airlock-system/scale-prod', deps(() => refused(500), '11', []))).rejects.toBeInstanceOf(ApiException);
  });
});
