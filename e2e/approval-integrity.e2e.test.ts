// The ApprovalRequest integrity policy (crds/admission) on the real API server, with real,
// distinct identities: client certificates for people, TokenRequest tokens for the gateway and
// operator ServiceAccounts. Every rule is tried allowed and refused. RBAC lets the people write
// status (the shipped approver role's rules); the policy decides what they may write.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import type { ApprovalRequest } from '../crds/types.gen.ts';
import { APPROVER_GROUP, PEOPLE, approvalRequest, setUpApprovalFixture, type ApprovalFixture, type Identity } from './support/approval-identities.ts';
import { kubectl, kubectlOk, type KubectlResult } from './support/kubectl.ts';

type Status = NonNullable<ApprovalRequest['status']>;
type Decision = NonNullable<Status['decisions']>[number];
type Phase = NonNullable<Status['phase']>;

let fx: ApprovalFixture;

beforeAll(async () => { fx = await setUpApprovalFixture('apr-vap'); }, 180_000);
afterAll(async () => { await fx.cleanup(); });

const AT = '2030-01-01T00:01:00Z';
const decision = (by: string, verdict: 'Approve' | 'Deny' = 'Approve', groups?: string[]): Decision => ({
  decision: verdict, by, ...(groups === undefined ? {} : { groups }), reason: 'checked the change', at: AT,
});
/** A person's decision as kubectl approve writes it: with the approver group they decide as, if they are in it. */
function decisionOf(who: Identity, verdict: 'Approve' | 'Deny' = 'Approve'): Decision {
  const groups = who in PEOPLE ? (PEOPLE[who as keyof typeof PEOPLE].groups as readonly string[]).filter((g) => g === APPROVER_GROUP) : [];
  return decision(fx.usernames[who], verdict, groups.length === 0 ? undefined : [...groups]);
}

function as(identity: Identity, args: readonly string[], input?: string): Promise<KubectlResult> {
  return kubectl(args, { kubeconfig: fx.kubeconfigs[identity], namespace: fx.namespace, ...(input === undefined ? {} : { input }) });
}

async function statusOf(name: string): Promise<Status> {
  const obj = JSON.parse(await kubectlOk(['get', 'apr', name, '-o', 'json'], { namespace: fx.namespace })) as ApprovalRequest;
  return obj.status ?? {};
}

function patchStatus(identity: Identity, name: string, status: object): Promise<KubectlResult> {
  return as(identity, ['patch', 'apr', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

async function expectOk(result: KubectlResult): Promise<void> {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  await Promise.resolve();
}

interface Prepared { readonly phase?: Phase; readonly decisions?: readonly Identity[]; readonly minApprovals?: number }

/** A request as it stands after the gateway created it, the operator marked it Pending, and the given people decided. */
async function prepare(state: Prepared = {}): Promise<string> {
  const name = `apr-${randomBytes(3).toString('hex')}`;
  await expectOk(await as('gateway', ['create', '-f', '-'], stringify(approvalRequest({ name, namespace: fx.namespace, ...(state.minApprovals === undefined ? {} : { minApprovals: state.minApprovals }) }))));
  await expectOk(await patchStatus('operator', name, { phase: 'Pending' }));
  const decisions: Decision[] = [];
  for (const who of state.decisions ?? []) {
    decisions.push(decisionOf(who));
    await expectOk(await patchStatus(who, name, { decisions }));
  }
  if (state.phase !== undefined && state.phase !== 'Pending') await expectOk(await patchStatus('operator', name, { phase: state.phase }));
  return name;
}

/** Appends a decision (by default the writer's own) to what is stored, as a reviewer's tool does. */
async function appendAs(identity: Identity, name: string, by = fx.usernames[identity]): Promise<KubectlResult> {
  const { decisions = [] } = await statusOf(name);
  return patchStatus(identity, name, { decisions: [...decisions, { ...decisionOf(identity), by }] });
}

describe('ApprovalRequest integrity: who may decide', () => {
  it.each<[string, Identity]>([
    ['a listed approver user', 'alice'],
    ['a member of a listed approver group', 'bob'],
  ])('accepts a decision by %s, carrying their own name', async (_what, who) => {
    const name = await prepare();
    await expectOk(await appendAs(who, name));
    expect((await statusOf(name)).decisions).toEqual([decisionOf(who)]);
  });

  it('refuses a member of an approver group who does not say so in decision.groups (the gateway could not verify it)', async () => {
    const name = await prepare();
    const result = await patchStatus('bob', name, { decisions: [decision(fx.usernames.bob)] });
    expect(result.stderr).toContain(`${fx.usernames.bob} decides ApprovalRequest ${name} as a member of approver group ${APPROVER_GROUP}; record it in decision.groups (kubectl approve does)`);
    expect((await statusOf(name)).decisions).toBeUndefined();
  });

  it.each<[string, Identity, string[]]>([
    ['an approver group they are not in', 'mallory', [APPROVER_GROUP]],
    ['a listed user naming a group they are not in', 'alice', [APPROVER_GROUP]],
    ['a member naming one more group', 'bob', [APPROVER_GROUP, 'system:masters']],
  ])('refuses a decision that records %s', async (_what, who, groups) => {
    const name = await prepare();
    const result = await patchStatus(who, name, { decisions: [decision(fx.usernames[who], 'Approve', groups)] });
    expect(result.stderr).toContain(`decision.groups must name only groups you are in as the API server authenticated you; ${fx.usernames[who]} is not in`);
    expect((await statusOf(name)).decisions).toBeUndefined();
  });

  it('accepts a second approver after the first while the request is Pending (minApprovals 2)', async () => {
    const name = await prepare({ decisions: ['alice'], minApprovals: 2 });
    await expectOk(await appendAs('bob', name));
    expect((await statusOf(name)).decisions?.map((d) => d.by)).toEqual([fx.usernames.alice, fx.usernames.bob]);
  });

  it.each<[string, Identity, (u: Record<Identity, string>) => string]>([
    ['a user with RBAC on the status who is not an approver', 'mallory', (u) => `${u.mallory} is not an approver of ApprovalRequest`],
    ['the caller of the request, though a listed approver user', 'carol', (u) => `${u.carol} may not decide ApprovalRequest`],
    ['the impersonated user of the request, though in the approver group', 'dave', (u) => `${u.dave} may not decide ApprovalRequest`],
    ['the gateway ServiceAccount', 'gateway', (u) => `${u.gateway} is an Airlock service account and may not add decisions`],
    ['the operator ServiceAccount', 'operator', (u) => `${u.operator} is an Airlock service account and may not add decisions`],
  ])('refuses a decision by %s', async (_what, who, message) => {
    const name = await prepare();
    const result = await appendAs(who, name);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message(fx.usernames));
    expect((await statusOf(name)).decisions).toBeUndefined();
  });

  it('says which identity made the request its own', async () => {
    const [caller, effective] = [await appendAs('carol', await prepare()), await appendAs('dave', await prepare())];
    expect(caller.stderr).toContain('it is their own request (as the caller); another approver must decide');
    expect(effective.stderr).toContain('it is their own request (as the impersonated user)');
  });

  it('lists the approvers when refusing a non-approver', async () => {
    const result = await appendAs('mallory', await prepare());
    expect(result.stderr).toContain('approvers are users e2e-apr-alice, e2e-apr-carol members of groups e2e-apr-sre');
  });

  it('refuses a user without RBAC on the status before the policy is asked', async () => {
    const result = await appendAs('eve', await prepare());
    // kubectl reads the object before it patches: RBAC refuses that first.
    expect(result.stderr).toMatch(/User "e2e-apr-eve" cannot (get|patch) resource "approvalrequests\/status"/);
    expect(result.stderr).not.toContain('ValidatingAdmissionPolicy');
  });

  it('refuses a decision after the request is decided', async () => {
    const name = await prepare({ decisions: ['bob'], phase: 'Denied' });
    const result = await appendAs('alice', name);
    expect(result.stderr).toContain(`ApprovalRequest ${name} is already Denied; decisions are taken only while it is Pending`);
  });
});

describe('ApprovalRequest integrity: what a decision may say', () => {
  it.each<[string, Identity, Identity]>([
    ['another approver', 'alice', 'bob'],
    ['a non-approver', 'bob', 'mallory'],
  ])('refuses a decision that names %s in `by`', async (_what, writer, named) => {
    const name = await prepare();
    const result = await appendAs(writer, name, fx.usernames[named]);
    expect(result.stderr).toContain(`decision.by must be your own username "${fx.usernames[writer]}", not "${fx.usernames[named]}"`);
  });

  it.each<[string, (d: Decision[]) => Decision[]]>([
    ['changing an earlier decision', (d) => d.map((x) => ({ ...x, decision: 'Deny' as const }))],
    ['removing an earlier decision', (d) => d.slice(1)],
    ['removing every decision', () => []],
    ['reordering earlier decisions', (d) => [...d].reverse()],
  ])('refuses %s', async (_what, edit) => {
    const name = await prepare({ decisions: ['bob', 'alice'], minApprovals: 2 });
    const before = (await statusOf(name)).decisions ?? [];
    expect(before).toHaveLength(2);
    const result = await patchStatus('alice', name, { decisions: edit(before) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('append-only');
    expect((await statusOf(name)).decisions).toEqual(before);
  });

  it('refuses a write that adds two decisions', async () => {
    const name = await prepare();
    const result = await patchStatus('alice', name, { decisions: [decision(fx.usernames.alice), decisionOf('bob')] });
    expect(result.stderr).toContain('a review adds exactly one decision; this write adds 2');
  });

  it('refuses a reviewer write that adds no decision', async () => {
    const name = await prepare();
    const result = await patchStatus('alice', name, { decisions: [] });
    expect(result.stderr).toContain('a review adds exactly one decision; this write adds 0');
  });
});

describe('ApprovalRequest integrity: status beyond decisions', () => {
  it.each<[string, object]>([
    ['phase', { phase: 'Approved' }],
    ['grant', { grant: { notBefore: AT, notAfter: '2030-01-01T00:11:00Z' } }],
    ['consumedBy', { consumedBy: { auditID: 'a1', at: AT } }],
    ['conditions', { conditions: [{ type: 'Approved', status: 'True', reason: 'Forged', message: 'x', lastTransitionTime: AT }] }],
    ['observedGeneration', { observedGeneration: 7 }],
  ])('refuses a reviewer setting %s, alone or with their decision', async (_field, change) => {
    const name = await prepare();
    const alone = await patchStatus('alice', name, change);
    expect(alone.stderr).toContain(`${fx.usernames.alice} may only append a decision: status.phase, grant, consumedBy, conditions and observedGeneration are set by the Airlock gateway and operator`);
    const withDecision = await patchStatus('alice', name, { ...change, decisions: [decision(fx.usernames.alice)] });
    expect(withDecision.stderr).toContain('may only append a decision');
    expect(await statusOf(name)).toEqual({ phase: 'Pending' });
  });

  it('refuses a gateway other than the one named in spec.gateway', async () => {
    const name = await prepare({ decisions: ['alice'] });
    const result = await patchStatus('otherGateway', name, { phase: 'Approved' });
    expect(result.stderr).toContain(`${fx.usernames.otherGateway} may only append a decision`);
  });

  it('lets the operator and the named gateway move phase, set the grant and record consumption', async () => {
    const name = await prepare({ decisions: ['alice'] });
    const condition = { type: 'Approved', status: 'True', reason: 'Approved', message: `approved by ${fx.usernames.alice}`, lastTransitionTime: AT };
    await expectOk(await patchStatus('operator', name, { phase: 'Approved', conditions: [condition], observedGeneration: 1, grant: { notBefore: AT, notAfter: '2030-01-01T00:11:00Z' } }));
    await expectOk(await patchStatus('gateway', name, { phase: 'Consumed', consumedBy: { auditID: 'audit-1', at: AT } }));
    const status = await statusOf(name);
    expect(status.phase).toBe('Consumed');
    expect(status.consumedBy).toEqual({ auditID: 'audit-1', at: AT });
    expect(status.decisions).toEqual([decision(fx.usernames.alice)]);
  });

  it.each<[string, Prepared]>([
    ['no decisions at all', {}],
    ['one approval of two needed', { decisions: ['alice'], minApprovals: 2 }],
    ['an approval and a deny', { decisions: ['alice'], minApprovals: 2 }],
  ])('refuses phase Approved, even from the operator, with %s', async (what, state) => {
    const name = await prepare(state);
    if (what === 'an approval and a deny') await expectOk(await patchStatus('bob', name, { decisions: [decisionOf('alice'), decisionOf('bob', 'Deny')] }));
    const result = await patchStatus('operator', name, { phase: 'Approved' });
    expect(result.stderr).toContain(`ApprovalRequest ${name} may be Approved only when its decisions approve it`);
    expect((await statusOf(name)).phase).toBe('Pending');
  });

  it('lets the operator set Approved once two approvers (one by user, one by recorded group) approve', async () => {
    const name = await prepare({ decisions: ['alice', 'bob'], minApprovals: 2 });
    await expectOk(await patchStatus('operator', name, { phase: 'Approved' }));
  });

  it('keeps the gateway to the phases it owns: never Approved (not even with approvals), Consumed or Expired yes, and never the grant', async () => {
    const name = await prepare({ decisions: ['alice'] });
    const approved = await patchStatus('gateway', name, { phase: 'Approved' });
    expect(approved.stderr).toContain(`${fx.usernames.gateway} is the gateway of ApprovalRequest ${name}: it moves phase only to Consumed or Expired, not Approved`);
    const grant = await patchStatus('gateway', name, { grant: { notBefore: AT, notAfter: '2031-01-01T00:00:00Z' } });
    expect(grant.stderr).toContain('it sets phase and consumedBy only; grant, conditions and observedGeneration are the operator');
    await expectOk(await patchStatus('gateway', name, { phase: 'Expired' }));
    expect((await statusOf(name)).phase).toBe('Expired');
  });

  it('refuses the Airlock service accounts changing or removing decisions', async () => {
    const name = await prepare({ decisions: ['alice'] });
    const changed = await patchStatus('operator', name, { decisions: [decision(fx.usernames.alice, 'Deny')] });
    expect(changed.stderr).toMatch(/append-only/);
    const removed = await patchStatus('gateway', name, { decisions: [] });
    expect(removed.stderr).toMatch(/append-only/);
    expect((await statusOf(name)).decisions).toEqual([decision(fx.usernames.alice)]);
  });
});

describe('ApprovalRequest integrity: spec and creation', () => {
  it('lets the gateway named in spec.gateway create a request', async () => {
    const name = await prepare();
    expect(await kubectlOk(['get', 'apr', name, '-o', 'jsonpath={.spec.gateway}'], { namespace: fx.namespace })).toBe('ci');
  });

  it('judges the gateway by the namespace of the request URL when the body names none', async () => {
    const name = `apr-${randomBytes(3).toString('hex')}`;
    const body = approvalRequest({ name, namespace: fx.namespace }) as { metadata: { namespace?: string } };
    delete body.metadata.namespace;
    await expectOk(await as('gateway', ['create', '-f', '-'], stringify(body)));
  });

  it('refuses a request created by anyone else with RBAC to create', async () => {
    const name = `apr-${randomBytes(3).toString('hex')}`;
    const result = await as('otherGateway', ['create', '-f', '-'], stringify(approvalRequest({ name, namespace: fx.namespace })));
    expect(result.stderr).toContain(`ApprovalRequests are created by their AccessGateway (${fx.usernames.gateway}), not by ${fx.usernames.otherGateway}`);
  });

  it.each<[string, object]>([
    ['the summary', { spec: { request: { summary: 'scale deployment prod/api from 3 to 3 replicas' } } }],
    ['the approvers', { spec: { approvers: { users: ['e2e-apr-mallory'] } } }],
    ['the gateway', { spec: { gateway: 'other' } }],
  ])('refuses a change of %s, even by the cluster admin', async (_what, patch) => {
    const name = await prepare();
    const result = await kubectl(['patch', 'apr', name, '--type=merge', '-p', JSON.stringify(patch)], { namespace: fx.namespace });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('is immutable');
  });

  it('keeps labels editable', async () => {
    const name = await prepare();
    await kubectlOk(['label', 'apr', name, 'airlock.dev/reviewed=true'], { namespace: fx.namespace });
  });

  it('compiles without type-checking warnings', async () => {
    const read = async (): Promise<{ observedGeneration?: number; typeChecking?: { expressionWarnings?: unknown[] } }> => (JSON.parse(
      await kubectlOk(['get', 'validatingadmissionpolicy', `airlock-e2e-integrity-${fx.namespace}`, '-o', 'jsonpath={.status}']) || '{}') as object);
    await expect.poll(async () => (await read()).observedGeneration, { timeout: 30_000 }).toBe(1);
    expect((await read()).typeChecking?.expressionWarnings ?? []).toEqual([]);
  });

  it('follows the namespace set in config/default (kustomize replacement)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-kustomize-'));
    try {
      await cp('crds', join(dir, 'crds'), { recursive: true });
      await cp('config', join(dir, 'config'), { recursive: true });
      const file = join(dir, 'config', 'default', 'kustomization.yaml');
      await writeFile(file, (await readFile(file, 'utf8')).replace(/^namespace: airlock-system$/m, 'namespace: team-airlock'));
      const built = await kubectlOk(['kustomize', join(dir, 'config', 'default')]);
      expect(built).toContain("'system:serviceaccount:team-airlock:airlock-operator'");
      expect(built).not.toContain(':airlock-system:');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is what config/default installs, naming the operator in the namespace of its ServiceAccount', async () => {
    const built = parseAllDocuments(await kubectlOk(['kustomize', 'config/default'])).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { variables?: { name: string; expression: string }[] } });
    const policy = built.find((o) => o.kind === 'ValidatingAdmissionPolicy');
    expect(policy?.metadata.name).toBe('airlock-approvalrequest-integrity');
    expect(policy?.spec.variables?.find((v) => v.name === 'operatorUsername')?.expression).toBe("'system:serviceaccount:airlock-system:airlock-operator'");
    expect(built.some((o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata.name === 'airlock-approvalrequest-integrity')).toBe(true);
  });
});
