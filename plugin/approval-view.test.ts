import { describe, expect, it } from 'vitest';
import { approvalsSoFar, approvalTable, describeApproval, expiresOf, isOpen, requesterOf, shortDuration, whyNotDecider } from './approval-view.ts';
import { approval, NOW } from './test-fixtures.ts';

describe('approval-view', () => {
  it.each([
    [0, '0s'], [119_000, '119s'], [120_000, '2m'], [179 * 60_000, '179m'], [3 * 3_600_000, '3h'], [47 * 3_600_000, '47h'], [49 * 3_600_000, '2d'],
  ])('shortDuration(%d) is %s, as kubectl prints ages', (ms, text) => {
    expect(shortDuration(ms)).toBe(text);
  });

  it.each([
    ['the caller alone', approval(), 'ci'],
    ['both identities when the caller impersonates', approval((a) => { a.spec.requester.effective = { username: 'deployer' }; }), 'ci as deployer'],
  ])('names the requester: %s', (_what, apr, text) => {
    expect(requesterOf(apr)).toBe(text);
  });

  it.each([
    ['no decisions', approval((a) => { a.spec.minApprovals = 2; }), '0/2'],
    ['one approval of two', approval((a) => { a.spec.minApprovals = 2; a.status = { decisions: [{ decision: 'Approve', by: 'alice', at: '2030-01-01T00:01:00Z' }] }; }), '1/2'],
    ['a deny', approval((a) => { a.status = { decisions: [{ decision: 'Approve', by: 'alice', at: 'x' }, { decision: 'Deny', by: 'bob', at: 'x' }] }; }), 'denied by bob'],
  ])('counts approvals so far: %s', (_what, apr, text) => {
    expect(approvalsSoFar(apr)).toBe(text);
  });

  it.each([
    ['a listed user', { username: 'alice', groups: [] }, undefined],
    ['a member of a listed group', { username: 'bob', groups: ['sre'] }, undefined],
    ['someone else', { username: 'mallory', groups: ['dev'] }, 'you are not an approver'],
    ['the caller, even in an approver group', { username: 'ci', groups: ['sre'] }, 'it is your own request'],
  ])('tells whether %s may decide', (_what, user, why) => {
    expect(whyNotDecider(approval(), user)).toBe(why);
  });

  it('knows a reviewer who already decided', () => {
    const apr = approval((a) => { a.status = { phase: 'Pending', decisions: [{ decision: 'Approve', by: 'alice', at: 'x' }] }; });
    expect(whyNotDecider(apr, { username: 'alice', groups: [] })).toBe('you already decided');
  });

  it.each([
    ['pending and in time', approval(), true],
    ['not yet marked by the operator', approval((a) => { delete a.status; }), true],
    ['past expiresAt', approval((a) => { a.spec.expiresAt = '2030-01-01T00:04:59Z'; }), false],
    ['approved', approval((a) => { a.status = { phase: 'Approved' }; }), false],
  ])('is open when %s: %s', (_what, apr, open) => {
    expect(isOpen(apr, NOW)).toBe(open);
  });

  it('says when a request expires or expired', () => {
    expect(expiresOf(approval(), NOW)).toBe('in 10m');
    expect(expiresOf(approval((a) => { a.spec.expiresAt = '2030-01-01T00:04:00Z'; }), NOW)).toBe('expired 60s ago');
  });

  it('renders the table as kubectl does: upper-case headers, columns three spaces apart', () => {
    const other = approval((a) => { a.metadata.name = 'delete-payments'; a.spec.request.summary = 'delete namespace payments'; a.spec.requester.effective = { username: 'deployer' }; });
    expect(approvalTable([approval(), other], { now: NOW, withNamespace: false })).toBe([
      'NAME              REQUESTER        SUMMARY                                          AGE   EXPIRES   APPROVALS',
      'scale-api         ci               scale deployment prod/api from 3 to 0 replicas   5m    in 10m    0/1',
      'delete-payments   ci as deployer   delete namespace payments                        5m    in 10m    0/1',
      '',
    ].join('\n'));
  });

  it('adds a NAMESPACE column first for --all-namespaces', () => {
    expect(approvalTable([approval()], { now: NOW, withNamespace: true }).split('\n')[1]).toMatch(/^prod {3,}scale-api /);
  });

  it('describes what a reviewer decides on', () => {
    const apr = approval((a) => { a.status = { phase: 'Pending', decisions: [{ decision: 'Approve', by: 'alice', reason: 'planned', at: '2030-01-01T00:01:00Z' }] }; a.spec.minApprovals = 2; });
    expect(describeApproval(apr, NOW)).toBe([
      'Name:       prod/scale-api',
      'Summary:    scale deployment prod/api from 3 to 0 replicas',
      'Requester:  ci',
      `Request:    patch deployments.apps/scale prod/api (body sha256:${'a'.repeat(64)})`,
      'Grant:      used once, within 10m of approval',
      'Policy:     airlock-system/payments-ci, rule scale-prod',
      'Approvers:  alice, group sre (2 needed)',
      'Phase:      Pending; approvals 1/2; in 10m',
      'Decision:   Approve by alice at 2030-01-01T00:01:00Z: planned',
      '',
    ].join('\n'));
  });

  it('shows what the body changes, values in a column, before the reviewer decides', () => {
    const apr = approval((a) => {
      a.spec.request.summary = 'patch deployment prod/api: .spec.replicas, .spec.template.spec.containers[0].image';
      a.spec.request.contentType = 'application/strategic-merge-patch+json';
      a.spec.request.changes = [
        { path: '.spec.replicas', value: '3' },
        { path: '.spec.template.spec.containers[0].image', value: '"evil.example/backdoor:1"' },
        { path: '.metadata.labels.a', op: 'remove' },
        { path: '.spec.b', op: 'copy', from: '.spec.a' },
      ];
      a.spec.request.changesNote = '3 more fields are not listed';
      a.spec.reusable = true;
      a.spec.grantTTL = '5m';
    });
    expect(describeApproval(apr, NOW).split('\n').slice(3, 11)).toEqual([
      `Request:    patch deployments.apps/scale prod/api (body sha256:${'a'.repeat(64)})`,
      'Sent as:    application/strategic-merge-patch+json',
      'Changes:    .spec.replicas                           3',
      '            .spec.template.spec.containers[0].image  "evil.example/backdoor:1"',
      '            .metadata.labels.a (remove)',
      '            .spec.b (copy from .spec.a)',
      '            (3 more fields are not listed)',
      'Grant:      reusable: repeats of this exact request within 5m of approval',
    ]);
  });
});
