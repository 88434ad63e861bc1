// Without -n, the approval commands look where the requests are (the gateways' namespaces), not in
// the reviewer's current namespace; they fall back to it only where listing everywhere is refused.
import { describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import type { ApprovalRequest } from '../crds/types.gen.ts';
import type { ApprovalApi, KubeSession } from './kube-session.ts';
import { listInScope, namespaceOf } from './namespace-scope.ts';
import { approval } from './test-fixtures.ts';
import { whatHappensNext } from './approve-command.ts';

function session(stored: readonly ApprovalRequest[], options: { clusterWide?: boolean } = {}): { session: KubeSession; listed: (string | undefined)[] } {
  const listed: (string | undefined)[] = [];
  const api = {
    list: (namespace: string | undefined) => {
      listed.push(namespace);
      if (namespace === undefined && options.clusterWide === false) return Promise.reject(new ApiException(403, 'forbidden', { kind: 'Status', code: 403, reason: 'Forbidden', message: 'cannot list' }, {}));
      return Promise.resolve(stored.filter((a) => namespace === undefined || a.metadata.namespace === namespace));
    },
  } as unknown as ApprovalApi;
  return { session: { namespace: 'default', context: 'test', api }, listed };
}

const inNamespace = (ns: string, name = 'scale-api'): ApprovalRequest => approval((a) => { a.metadata.namespace = ns; a.metadata.name = name; });
const noFlags = { allNamespaces: false } as const;

describe('listInScope', () => {
  it('looks in every namespace when none is named (the requests are in the gateways\' namespaces, not "default")', async () => {
    const { session: s, listed } = session([inNamespace('airlock-system')]);
    const result = await listInScope(s, noFlags);
    expect(listed).toEqual([undefined]);
    expect(result).toMatchObject({ where: 'any namespace', everywhere: true });
    expect(result.items).toHaveLength(1);
  });

  it('falls back to the current namespace, and says why, when listing everywhere is forbidden', async () => {
    const { session: s, listed } = session([inNamespace('default')], { clusterWide: false });
    const result = await listInScope(s, noFlags);
    expect(listed).toEqual([undefined, 'default']);
    expect(result.where).toBe('namespace default (you may not list ApprovalRequests in every namespace; name another with -n)');
  });

  it('looks only where -n says', async () => {
    const { session: s, listed } = session([inNamespace('prod')]);
    expect((await listInScope(s, { ...noFlags, namespace: 'prod' })).where).toBe('namespace prod');
    expect(listed).toEqual(['prod']);
  });

  it('refuses -A when listing everywhere is forbidden, rather than showing less', async () => {
    const { session: s } = session([], { clusterWide: false });
    await expect(listInScope(s, { allNamespaces: true })).rejects.toBeInstanceOf(ApiException);
  });
});

describe('namespaceOf', () => {
  it('finds a named request wherever it is', async () => {
    expect(await namespaceOf(session([inNamespace('airlock-system')]).session, noFlags, 'scale-api')).toBe('airlock-system');
  });

  it('asks for -n when the name is in two namespaces', async () => {
    await expect(namespaceOf(session([inNamespace('a'), inNamespace('b')]).session, noFlags, 'scale-api'))
      .rejects.toThrow('ApprovalRequest "scale-api" exists in namespaces a, b; name one with -n NAMESPACE');
  });

  it('uses the current namespace when not found, or when listing everywhere is forbidden', async () => {
    expect(await namespaceOf(session([]).session, noFlags, 'nope')).toBe('default');
    expect(await namespaceOf(session([inNamespace('x')], { clusterWide: false }).session, noFlags, 'scale-api')).toBe('default');
  });

  it('takes -n as given', async () => {
    const { session: s, listed } = session([inNamespace('x')]);
    expect(await namespaceOf(s, { ...noFlags, namespace: 'prod' }, 'scale-api')).toBe('prod');
    expect(listed).toEqual([]);
  });
});

describe('whatHappensNext: the decision in words, not a phase the operator has not set yet', () => {
  const decided = (edit: (a: ApprovalRequest) => void, by: string[]): ApprovalRequest => approval((a) => {
    edit(a);
    a.status = { phase: 'Pending', decisions: by.map((b) => ({ decision: 'Approve', by: b, at: '2030-01-01T00:00:10Z' })) };
  });
  it.each([
    ['the last approval needed, mode Wait', decided(() => undefined, ['alice']), 'Approve', 'approved: approvalrequest prod/scale-api has the approvals it needs (1 of 1); the held request goes through now'],
    ['the last approval needed, mode Reject', decided((a) => { a.spec.mode = 'Reject'; a.spec.grantTTL = '5m'; }, ['alice']), 'Approve',
      'approved: approvalrequest prod/scale-api has the approvals it needs (1 of 1); the requester\'s identical command now goes through once, within 5m'],
    ['one of two', decided((a) => { a.spec.minApprovals = 2; }, ['alice']), 'Approve', 'approved: approvalrequest prod/scale-api has 1 of 2 approvals; it waits for 1 more'],
    ['a deny', decided(() => undefined, []), 'Deny', 'denied: approvalrequest prod/scale-api; the held request is refused with your reason'],
  ] as const)('%s', (_name, apr, verdict, expected) => {
    expect(whatHappensNext(apr, verdict)).toBe(expected);
  });
});
