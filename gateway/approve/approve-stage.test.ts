// The approval stage against a small in-memory ApprovalRequest store with the API server's
// optimistic concurrency (a write carrying an old resourceVersion is a 409), passed in as its API.
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../core/policy/model.ts';
import { ApprovalApiError, type ApprovalApi } from './approval-api.ts';
import type { ApprovalDecision, ApprovalRequestObject } from '../../core/approval/approval-object.ts';
import { approvedWarning, createApproveStage, MAX_CONSUME_CONFLICTS, type ApprovalContext } from './approve-stage.ts';
import { createHeldRequests } from './held-requests.ts';

const NOW = new Date('2026-11-24T12:00:00Z');
const NS = 'airlock-system';

type Mutable = { -readonly [K in keyof ApprovalRequestObject]: ApprovalRequestObject[K] };

class Store implements ApprovalApi {
  readonly objects = new Map<string, ApprovalRequestObject>();
  rv = 1;
  consumes = 0;
  /** Writes another writer makes just before each of the next consumes lands (the operator's status write). */
  interleave = 0;

  put(object: ApprovalRequestObject): ApprovalRequestObject {
    this.rv += 1;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.rv) } };
    this.objects.set(stored.metadata.name ?? '', stored);
    return stored;
  }
  decide(name: string, decision: ApprovalDecision): void {
    const ar = this.objects.get(name) as Mutable;
    this.put({ ...ar, status: { ...ar.status, decisions: [...(ar.status?.decisions ?? []), decision] } });
  }
  findByFingerprint(_namespace: string, label: string): Promise<ApprovalRequestObject[]> {
    return Promise.resolve([...this.objects.values()].filter((ar) => ar.metadata.labels?.['airlock.dev/fingerprint'] === label));
  }
  /** Names in the order they were created (the API server refuses a second object of one name: 409). */
  readonly created: string[] = [];
  nth(n: number): string {
    return this.created[n - 1] ?? `(no ApprovalRequest number ${n})`;
  }
  create(object: Record<string, unknown>): Promise<ApprovalRequestObject> {
    const ar = object as unknown as ApprovalRequestObject;
    const name = ar.metadata.name ?? '';
    if (this.objects.has(name)) return Promise.reject(new ApprovalApiError('already exists', 409));
    this.created.push(name);
    return Promise.resolve(this.put(ar));
  }
  get(_namespace: string, name: string): Promise<ApprovalRequestObject> {
    const ar = this.objects.get(name);
    return ar === undefined ? Promise.reject(new ApprovalApiError('not found', 404)) : Promise.resolve(ar);
  }
  consume(ar: ApprovalRequestObject, auditID: string): Promise<ApprovalRequestObject> {
    this.consumes += 1;
    const name = ar.metadata.name ?? '';
    if (this.interleave > 0) {
      this.interleave -= 1;
      const current = this.objects.get(name) as Mutable;
      this.put({ ...current, status: { ...current.status, phase: 'Approved' } });
    }
    const current = this.objects.get(name);
    if (current?.metadata.resourceVersion !== ar.metadata.resourceVersion) return Promise.reject(new ApprovalApiError('conflict', 409));
    return Promise.resolve(this.put({ ...ar, status: { ...ar.status, phase: 'Consumed', consumedBy: { auditID } } }));
  }
  watch(ar: ApprovalRequestObject, until: (ar: ApprovalRequestObject) => boolean, signal: AbortSignal): Promise<ApprovalRequestObject> {
    return new Promise((resolve) => {
      const check = (): void => {
        const current = this.objects.get(ar.metadata.name ?? '') ?? ar;
        if (until(current) || signal.aborted) { resolve(current); return; }
        setTimeout(check, 1);
      };
      check();
    });
  }
}

const settings: { approvers: { users: string[] }; mode: 'Wait' | 'Reject'; grantTTL: string } = { approvers: { users: ['alice'] }, mode: 'Reject', grantTTL: '10m' };
const decision = (over: Partial<typeof settings> & { reusable?: boolean; mode?: 'Wait' | 'Reject' } = {}): Decision => ({
  action: 'RequireApproval', reason: 'rule scale of AccessPolicy airlock-system/payments', approval: { ...settings, ...over },
  matched: { namespace: NS, name: 'payments', rule: 'scale' },
});

function context(over: Partial<ApprovalContext> = {}): ApprovalContext {
  return {
    request: { resourceRequest: true, verb: 'patch', apiGroup: '', resource: 'configmaps', subresource: '', namespace: 'prod', name: 'c', path: '/api/v1/namespaces/prod/configmaps/c' },
    method: 'PATCH', target: '/api/v1/namespaces/prod/configmaps/c', contentType: 'application/merge-patch+json',
    caller: { user: { username: 'ci', groups: ['system:authenticated'], extra: {} }, method: 'oidc' },
    effective: { username: 'ci', groups: ['system:authenticated'], extra: {} },
    decision: decision(), body: { complete: true, body: Buffer.from('{"data":{"k":"1"}}') }, auditID: 'audit-1', signal: new AbortController().signal,
    ...over,
  };
}

function stage(store: Store, gateway = 'prod', max = 8): (ctx: ApprovalContext) => ReturnType<ReturnType<typeof createApproveStage>> {
  return createApproveStage({ api: store, gateway: { name: gateway, namespace: NS }, maskRules: () => [], held: createHeldRequests(max), now: () => NOW });
}

const approval = (by = 'alice'): ApprovalDecision => ({ decision: 'Approve', by, at: new Date(NOW.getTime() - 1000).toISOString() });

describe('approve stage: one ApprovalRequest per held request', () => {
  it('creates one object for the same request held twice at once (a CI retry, or two replicas), and both name it', async () => {
    const store = new Store();
    const approve = stage(store);
    const [a, b] = await Promise.all([approve(context()), approve(context())]);
    expect(store.objects.size).toBe(1);
    expect([a.approvalRequest?.name, b.approvalRequest?.name]).toEqual([store.nth(1), store.nth(1)]);
  });

  it('creates the next attempt once the earlier request is finished', async () => {
    const store = new Store();
    const approve = stage(store);
    await approve(context());
    store.decide(store.nth(1), approval());
    expect((await approve(context())).ok).toBe(true);
    expect((await approve(context())).approvalRequest?.name).toBe(store.nth(2));
    expect(store.created.map((n) => n.slice(-2))).toEqual(['-0', '-1']);
  });
});

describe('approve stage (Reject mode)', () => {
  it('creates one request, then uses its approval once', async () => {
    const store = new Store();
    const approve = stage(store);
    const first = await approve(context());
    expect(first.ok).toBe(false);
    expect(store.objects.size).toBe(1);
    store.decide(store.nth(1), approval());
    // The caller is told who approved it (kubectl prints it as a Warning).
    expect(await approve(context())).toEqual({ ok: true, approvalRequest: { namespace: NS, name: store.nth(1) }, warning: `approved by alice (ApprovalRequest ${store.nth(1)} in airlock-system)` });
    expect(store.objects.get(store.nth(1))?.status?.phase).toBe('Consumed');
  });

  it('re-reads and retries when the operator writes while the grant is consumed', async () => {
    const store = new Store();
    const approve = stage(store);
    await approve(context());
    store.decide(store.nth(1), approval());
    store.interleave = 2;
    expect((await approve(context())).ok).toBe(true);
    expect(store.consumes).toBe(3);
    expect(store.objects.size).toBe(1);
  });

  it('gives up after too many conflicting writes, without forwarding and without a new request', async () => {
    const store = new Store();
    const approve = stage(store);
    await approve(context());
    store.decide(store.nth(1), approval());
    store.interleave = MAX_CONSUME_CONFLICTS + 5;
    const outcome = await approve(context());
    expect(outcome.ok).toBe(false);
    expect(store.objects.size).toBe(1);
  });

  it.each<[string, Partial<ApprovalContext>]>([
    ['another content type', { contentType: 'application/strategic-merge-patch+json' }],
    ['a DELETE-like body change', { body: { complete: true, body: Buffer.from('{"data":{"k":"2"}}') } }],
    ['one more impersonated group', { effective: { username: 'ci', groups: ['system:authenticated', 'ops'], extra: {} } }],
    ['another caller uid', { caller: { user: { username: 'ci', uid: 'x', groups: ['system:authenticated'], extra: {} }, method: 'oidc' } }],
  ])('does not use an approval for %s', async (_what, change) => {
    const store = new Store();
    const approve = stage(store);
    await approve(context());
    store.decide(store.nth(1), approval());
    expect((await approve(context(change))).ok).toBe(false);
    expect(store.objects.get(store.nth(1))?.status?.phase).toBeUndefined();
    expect(store.objects.size).toBe(2);
  });

  it('does not use an approval given under another gateway, or under other approvers, even reusable', async () => {
    const store = new Store();
    await stage(store, 'dev')(context({ decision: decision({ reusable: true }) }));
    store.decide(store.nth(1), approval());
    expect((await stage(store, 'prod')(context({ decision: decision({ reusable: true }) }))).ok).toBe(false);
    const otherApprovers = { ...decision({ reusable: true }), approval: { ...settings, reusable: true, approvers: { users: ['bob'] } } };
    expect((await stage(store, 'dev')(context({ decision: otherApprovers }))).ok).toBe(false);
    expect((await stage(store, 'dev')(context({ decision: decision({ reusable: true }) }))).ok).toBe(true);
  });

  it('does not take phase Approved without approvals as a grant', async () => {
    const store = new Store();
    const approve = stage(store);
    await approve(context());
    const ar = store.objects.get(store.nth(1)) as Mutable;
    store.put({ ...ar, status: { phase: 'Approved', grant: { notBefore: NOW.toISOString(), notAfter: new Date(NOW.getTime() + 600_000).toISOString() } } });
    expect((await approve(context())).ok).toBe(false);
    store.decide(store.nth(1), approval('ci'));
    expect((await approve(context())).ok).toBe(false);
    store.decide(store.nth(1), approval('alice'));
    expect((await approve(context())).ok).toBe(true);
  });

  it('records the masked changes and a truthful summary', async () => {
    const store = new Store();
    await stage(store)(context());
    const spec = store.objects.get(store.nth(1))?.spec as { request: Record<string, unknown> };
    expect(spec.request).toMatchObject({ summary: 'patch configmap prod/c: .data.k', changes: [{ path: '.data.k', value: '"1"' }], contentType: 'application/merge-patch+json' });
  });
});

describe('approve stage (Wait mode)', () => {
  it('goes through when approved even if the operator writes as it consumes (never "already used")', async () => {
    const store = new Store();
    const approve = stage(store);
    const waiting = approve(context({ decision: decision({ mode: 'Wait' }) }));
    await new Promise((r) => setTimeout(r, 5));
    store.interleave = 1;
    store.decide(store.nth(1), approval());
    expect((await waiting).ok).toBe(true);
  });

  it('caps held requests per caller with a 429 that says when to retry', async () => {
    const store = new Store();
    const approve = stage(store, 'prod', 1);
    const abort = new AbortController();
    const waiting = approve(context({ decision: decision({ mode: 'Wait' }), signal: abort.signal }));
    await new Promise((r) => setTimeout(r, 5));
    const refused = await approve(context({ decision: decision({ mode: 'Wait' }), body: { complete: true, body: Buffer.from('{"data":{"k":"2"}}') } }));
    expect(refused).toMatchObject({ ok: false, status: { code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 10 } } });
    expect(store.objects.size).toBe(1);
    abort.abort();
    expect((await waiting).ok).toBe(false);
    const next = approve(context({ decision: decision({ mode: 'Wait' }), body: { complete: true, body: Buffer.from('{"data":{"k":"3"}}') } }));
    await new Promise((r) => setTimeout(r, 5));
    expect(store.objects.size).toBe(2);
    store.decide(store.nth(2), approval());
    expect((await next).ok).toBe(true);
  });
});

describe('approvedWarning', () => {
  it.each([
    ['one approver, decided 42 s after the request', ['alice'], '2026-12-05T10:00:42Z', 'approved by alice after 42s (ApprovalRequest ar-9 in ns)'],
    ['two approvers, after three minutes', ['alice', 'bob'], '2026-12-05T10:03:05Z', 'approved by alice, bob after 3m5s (ApprovalRequest ar-9 in ns)'],
    ['after hours', ['carol'], '2026-12-05T12:30:00Z', 'approved by carol after 2h30m (ApprovalRequest ar-9 in ns)'],
  ])('says %s', (_name, by, at, expected) => {
    const ar = { metadata: { name: 'ar-9', namespace: 'ns', creationTimestamp: '2026-12-05T10:00:00Z' } } as unknown as ApprovalRequestObject;
    expect(approvedWarning(ar, by.map((b) => ({ decision: 'Approve' as const, by: b, at })))).toBe(expected);
  });
});
