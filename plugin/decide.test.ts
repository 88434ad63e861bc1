import { describe, expect, it } from 'vitest';
import { decide, explainFailure, MAX_CONFLICT_RETRIES } from './decide.ts';
import { CliError } from './subcommand.ts';
import { apiError, approval, fakeApi, NOW } from './test-fixtures.ts';

const base = { namespace: 'prod', name: 'scale-api', verdict: 'Approve' as const, now: () => NOW, prog: 'kubectl airlock' };

describe('decide', () => {
  it('appends a decision carrying the current user, the reason and the time, with the resourceVersion read', async () => {
    const api = fakeApi({ stored: approval() });
    const result = await decide({ ...base, api, reason: 'planned maintenance' });
    expect(api.patches).toEqual([{ metadata: { resourceVersion: '1' }, status: { decisions: [{ decision: 'Approve', by: 'alice', reason: 'planned maintenance', at: '2030-01-01T00:05:00Z' }] } }]);
    expect(result.request.status?.decisions).toHaveLength(1);
    expect(result.conflicts).toBe(0);
  });

  it('records the approver groups a member decides as (what admission checks and the gateway counts)', async () => {
    const api = fakeApi({ stored: approval((a) => { a.spec.approvers = { users: ['alice'], groups: ['sre', 'dba'] }; }), user: { username: 'bob', groups: ['system:authenticated', 'dba', 'sre'] } });
    await decide({ ...base, api });
    expect(api.patches).toEqual([{ metadata: { resourceVersion: '1' }, status: { decisions: [{ decision: 'Approve', by: 'bob', groups: ['sre', 'dba'], at: '2030-01-01T00:05:00Z' }] } }]);
  });

  it('keeps earlier decisions and adds a deny after them', async () => {
    const earlier = { decision: 'Approve' as const, by: 'bob', at: '2030-01-01T00:01:00Z' };
    const api = fakeApi({ stored: approval((a) => { a.spec.minApprovals = 2; a.status = { phase: 'Pending', decisions: [earlier] }; }) });
    await decide({ ...base, api, verdict: 'Deny' });
    expect(api.stored?.status?.decisions).toEqual([earlier, { decision: 'Deny', by: 'alice', at: '2030-01-01T00:05:00Z' }]);
  });

  it('reads again and retries when another reviewer wrote in between (409)', async () => {
    let raced = false;
    const api = fakeApi({
      stored: approval((a) => { a.spec.minApprovals = 2; }),
      beforePatch: (fake) => {
        if (raced || fake.stored === undefined) return;
        raced = true;
        fake.stored.metadata.resourceVersion = '2';
        fake.stored.status = { phase: 'Pending', decisions: [{ decision: 'Approve', by: 'bob', at: 'x' }] };
      },
    });
    const result = await decide({ ...base, api });
    expect(result.conflicts).toBe(1);
    expect(api.stored?.status?.decisions?.map((d) => d.by)).toEqual(['bob', 'alice']);
  });

  it('gives up after repeated conflicts with a line saying to run it again', async () => {
    const api = fakeApi({ stored: approval(), beforePatch: (fake) => { if (fake.stored !== undefined) fake.stored.metadata.resourceVersion = `${Math.random()}`; } });
    await expect(decide({ ...base, api })).rejects.toThrow(`kept changing while we wrote (${MAX_CONFLICT_RETRIES + 1} conflicts); run the command again`);
  });

  it.each([
    ['not found', undefined, 'ApprovalRequest "scale-api" not found in namespace "prod"; list pending ones with: kubectl airlock list -n prod'],
    ['already approved', approval((a) => { a.status = { phase: 'Approved' }; }), 'ApprovalRequest prod/scale-api is already Approved; decisions are taken only while it is Pending'],
    ['expired', approval((a) => { a.spec.expiresAt = '2030-01-01T00:04:00Z'; }), 'ApprovalRequest prod/scale-api expired at 2030-01-01T00:04:00Z; the requester must send the request again'],
    ['decided by this user', approval((a) => { a.status = { phase: 'Pending', decisions: [{ decision: 'Deny', by: 'alice', at: 'T' }] }; }), 'you (alice) already decided ApprovalRequest prod/scale-api: Deny at T; a decision cannot be changed'],
  ])('refuses before writing when %s', async (_what, stored, message) => {
    const api = fakeApi(stored === undefined ? {} : { stored });
    const error: unknown = await decide({ ...base, api }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toContain(message);
    expect(api.patches).toEqual([]);
  });

  it('shows the admission policy\'s own message when it refuses', async () => {
    const vap = `approvalrequests.airlock.dev "scale-api" is forbidden: ValidatingAdmissionPolicy 'airlock-approvalrequest-integrity' with binding 'airlock-approvalrequest-integrity' denied request: mallory is not an approver of ApprovalRequest scale-api; approvers are users alice`;
    const api = fakeApi({ stored: approval(), beforePatch: () => { throw apiError(403, vap); } });
    await expect(decide({ ...base, api })).rejects.toThrow(/^mallory is not an approver of ApprovalRequest scale-api; approvers are users alice$/);
  });
});

describe('explainFailure', () => {
  const context = { namespace: 'prod', name: 'scale-api', prog: 'kubectl airlock', user: { username: 'eve', groups: [] } };
  it.each([
    ['RBAC', 403, 'approvalrequests.airlock.dev "scale-api" is forbidden: User "eve" cannot patch resource "approvalrequests/status" in API group "airlock.dev"',
      'eve may not read or decide ApprovalRequests in namespace "prod"; ask an administrator to bind the ClusterRole airlock-approvalrequest-approver (docs/approvals.md)'],
    ['RBAC across namespaces', 403, 'approvalrequests.airlock.dev is forbidden: User "eve" cannot list resource "approvalrequests" in API group "airlock.dev" at the cluster scope',
      'eve may not list ApprovalRequests in all namespaces; drop -A and name one with -n NAMESPACE'],
    ['an API the cluster does not serve', 404, 'the server could not find the requested resource',
      'this cluster does not serve ApprovalRequests (airlock.dev/v1alpha1); is Airlock installed? (kubectl apply --server-side -k config/default)'],
    ['bad credentials', 401, 'Unauthorized', 'the API server did not accept your credentials (HTTP 401); log in again, or choose another --context'],
    ['a CRD rule', 422, 'ApprovalRequest.airlock.dev "scale-api" is invalid: status.decisions: Invalid value: "array": each reviewer decides once\nmore',
      'the API server refused (HTTP 422 Forbidden): ApprovalRequest.airlock.dev "scale-api" is invalid: status.decisions: Invalid value: "array": each reviewer decides once'],
  ])('puts %s in one line with the fix', (_what, code, message, line) => {
    expect(explainFailure({ code, reason: 'Forbidden', message }, context)).toBe(line);
  });
});
