// The kubectl plugin as reviewers use it: the real kubectl finds `kubectl-approve` and
// `kubectl-airlock` on PATH (plugin/bin, which run the project's Node 24 whatever node PATH
// has: PATH here holds no node at all), each person with their own kubeconfig (client
// certificate), against the real API server with the integrity policy in force.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { ApprovalRequest } from '../crds/types.gen.ts';
import { approvalRequest, setUpApprovalFixture, type ApprovalFixture, type Identity, type RequestOptions } from './support/approval-identities.ts';
import { kubectl, kubectlOk, type KubectlResult } from './support/kubectl.ts';

const BIN_DIR = fileURLToPath(new URL('../plugin/bin', import.meta.url));
let fx: ApprovalFixture;

beforeAll(async () => { fx = await setUpApprovalFixture('apr-plugin'); }, 180_000);
afterAll(async () => { await fx.cleanup(); });

/** kubectl as this person, through KUBECONFIG as a user's shell has it, with the plugins on PATH. */
function kubectlAs(identity: Identity, args: readonly string[]): Promise<KubectlResult> {
  return kubectl(args, { kubeconfig: fx.kubeconfigs[identity], env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
}

async function stored(name: string): Promise<ApprovalRequest> {
  return JSON.parse(await kubectlOk(['get', 'apr', name, '-o', 'json'], { namespace: fx.namespace })) as ApprovalRequest;
}

async function pending(options: Partial<RequestOptions> = {}): Promise<string> {
  const name = `apr-${randomBytes(3).toString('hex')}`;
  await kubectlOk(['create', '-f', '-'], { kubeconfig: fx.kubeconfigs.gateway, input: stringify(approvalRequest({ name, namespace: fx.namespace, ...options })) });
  await kubectlOk(['patch', 'apr', name, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Pending"}}'], { kubeconfig: fx.kubeconfigs.operator, namespace: fx.namespace });
  return name;
}

function expectOneErrorLine(result: KubectlResult, text: string): void {
  expect(result.code).toBe(1);
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(`error: ${text}`)]);
}

describe('kubectl approve / kubectl airlock, discovered by kubectl on PATH', () => {
  it('kubectl approve NAME -n NS --reason approves as the current user and shows what it approved', async () => {
    const name = await pending();
    const result = await kubectlAs('alice', ['approve', name, '-n', fx.namespace, '--reason', 'planned scale-down']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Approving as ${fx.usernames.alice}:\nName:       ${fx.namespace}/${name}\nSummary:    scale deployment prod/api from 3 to 0 replicas\nRequester:  ${fx.usernames.carol} as ${fx.usernames.dave}\n`);
    expect(result.stdout).toContain(`approved: approvalrequest ${fx.namespace}/${name} has the approvals it needs (1 of 1); the held request goes through now`);
    const decisions = (await stored(name)).status?.decisions ?? [];
    expect(decisions).toEqual([{ decision: 'Approve', by: fx.usernames.alice, reason: 'planned scale-down', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown }]);
  });

  it('kubectl airlock deny records a deny by a member of an approver group, with --context and --kubeconfig flags', async () => {
    const name = await pending();
    const result = await kubectl(['airlock', 'deny', name, '--reason', 'not during the freeze', '--context', fx.usernames.bob, '--kubeconfig', fx.kubeconfigs.bob],
      { kubeconfig: '/nonexistent', env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('denied: approvalrequest');
    expect((await stored(name)).status?.decisions).toEqual([expect.objectContaining({ decision: 'Deny', by: fx.usernames.bob, reason: 'not during the freeze' })]);
  });

  it('takes the namespace from the kubeconfig context when -n is not given', async () => {
    const name = await pending();
    const result = await kubectlAs('alice', ['approve', '--deny', name]);
    expect(result.code).toBe(0);
    expect((await stored(name)).status?.decisions?.[0]?.decision).toBe('Deny');
  });

  it('finds requests in the gateways\' namespaces when the reviewer\'s current one is "default" and no -n is given', async () => {
    const name = await pending({ summary: 'delete namespace billing' });
    // A reviewer who may list ApprovalRequests everywhere (the shipped approver ClusterRole, bound cluster-wide).
    const role = `apr-plugin-list-${randomBytes(3).toString('hex')}`;
    await kubectlOk(['create', 'clusterrole', role, '--verb=get,list', '--resource=approvalrequests.airlock.dev']);
    await kubectlOk(['create', 'clusterrolebinding', role, `--clusterrole=${role}`, `--user=${fx.usernames.alice}`]);
    try {
      const kubeconfig = join(fx.dir, 'alice-default-namespace');
      const config = parse(await readFile(fx.kubeconfigs.alice, 'utf8')) as { contexts: { context: { namespace?: string } }[] };
      for (const c of config.contexts) c.context.namespace = 'default';
      await writeFile(kubeconfig, stringify(config));
      const as = (args: readonly string[]): Promise<KubectlResult> => kubectl(args, { kubeconfig, env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
      await expect.poll(async () => (await as(['approve'])).stdout, { timeout: 10_000 }).toContain(name);
      const listed = await as(['approve']);
      expect(listed.stdout.split('\n')[0]).toMatch(/^NAMESPACE +NAME +REQUESTER/);
      const approved = await as(['approve', name, '--reason', 'found it']);
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toContain(`approvalrequest ${fx.namespace}/${name} has the approvals it needs`);
      expect((await stored(name)).status?.decisions?.[0]).toMatchObject({ decision: 'Approve', by: fx.usernames.alice });
    } finally {
      await kubectl(['delete', 'clusterrolebinding', role]);
      await kubectl(['delete', 'clusterrole', role]);
    }
  });

  it('two approvers at once both land (a write that loses the race is read again and retried)', async () => {
    const name = await pending({ minApprovals: 2 });
    const results = await Promise.all([
      kubectlAs('alice', ['approve', name, '-n', fx.namespace]),
      kubectlAs('bob', ['approve', name, '-n', fx.namespace]),
    ]);
    expect(results.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, '']]);
    expect((await stored(name)).status?.decisions?.map((d) => d.by).sort()).toEqual([fx.usernames.alice, fx.usernames.bob].sort());
  });

  it.each<[string, Identity, (f: ApprovalFixture, name: string) => string]>([
    ['a user with RBAC who is not an approver: the policy\'s message', 'mallory', (f, n) => `${f.usernames.mallory} is not an approver of ApprovalRequest ${n}; approvers are users`],
    ['the requester: the policy\'s message', 'carol', (f, n) => `${f.usernames.carol} may not decide ApprovalRequest ${n}: it is their own request (as the caller)`],
    ['the impersonated user: the policy\'s message', 'dave', (f, n) => `${f.usernames.dave} may not decide ApprovalRequest ${n}: it is their own request (as the impersonated user)`],
    ['a user without RBAC: which role to ask for', 'eve', (f) => `${f.usernames.eve} may not read or decide ApprovalRequests in namespace "${f.namespace}"; ask an administrator to bind the ClusterRole airlock-approvalrequest-approver`],
  ])('refuses %s, in one line', async (_what, who, message) => {
    const name = await pending();
    const result = await kubectlAs(who, ['approve', name, '-n', fx.namespace]);
    expectOneErrorLine(result, message(fx, name));
    expect((await stored(name)).status?.decisions).toBeUndefined();
  });

  it('says a request is not found, and how to list pending ones', async () => {
    const result = await kubectlAs('alice', ['approve', 'no-such-request', '-n', fx.namespace]);
    expectOneErrorLine(result, `ApprovalRequest "no-such-request" not found in namespace "${fx.namespace}"; list pending ones with: kubectl airlock list -n ${fx.namespace}`);
  });

  it('says a request is already decided', async () => {
    const name = await pending();
    await kubectlOk(['approve', name, '-n', fx.namespace], { kubeconfig: fx.kubeconfigs.alice, env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
    await kubectlOk(['patch', 'apr', name, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Approved"}}'], { kubeconfig: fx.kubeconfigs.operator, namespace: fx.namespace });
    expectOneErrorLine(await kubectlAs('bob', ['approve', name, '-n', fx.namespace]), `ApprovalRequest ${fx.namespace}/${name} is already Approved`);
    expectOneErrorLine(await kubectlAs('alice', ['approve', name, '-n', fx.namespace]), `you (${fx.usernames.alice}) already decided ApprovalRequest ${fx.namespace}/${name}`);
  });

  it('says when it cannot reach the API server, and where it tried', async () => {
    // alice's kubeconfig without the cluster's CA: TLS refuses the server's certificate.
    const config = parse(await readFile(fx.kubeconfigs.alice, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
    for (const c of config.clusters) delete c.cluster['certificate-authority-data'];
    const file = join(fx.dir, 'no-ca.kubeconfig');
    await writeFile(file, stringify(config), { mode: 0o600 });
    const result = await kubectl(['approve', 'x'], { kubeconfig: file, env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
    expectOneErrorLine(result, `cannot reach the API server at ${fx.server}: `);
    expect(result.stderr).toContain('check KUBECONFIG, --kubeconfig and --context');
  });

  it('says a request has expired', async () => {
    const name = await pending({ expiresAt: '2020-01-01T00:00:00Z' });
    expectOneErrorLine(await kubectlAs('alice', ['approve', name, '-n', fx.namespace]), `ApprovalRequest ${fx.namespace}/${name} expired at 2020-01-01T00:00:00Z`);
  });

  it('lists pending requests as a table, and `kubectl approve` alone lists what the user may decide', async () => {
    const name = await pending({ summary: 'delete namespace payments' });
    const list = await kubectlAs('mallory', ['airlock', 'list', '-n', fx.namespace]);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME +REQUESTER +SUMMARY +AGE +EXPIRES +APPROVALS$/);
    const row = list.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    expect(row.split(/ {3,}/)).toEqual([name, `${fx.usernames.carol} as ${fx.usernames.dave}`, 'delete namespace payments', expect.stringMatching(/^\d+s$/), expect.stringMatching(/^in 1[45]m$/), '0/1']);
    const mine = await kubectlAs('alice', ['approve', '-n', fx.namespace]);
    expect(mine.stdout).toContain(`${name} `);
    const notMine = await kubectlAs('mallory', ['approve', '-n', fx.namespace]);
    expect(notMine.stdout).toBe('');
    expect(notMine.stderr).toBe(`No pending ApprovalRequests you may decide in namespace ${fx.namespace}.\n`);
  });

  it('kubectl airlock get shows one request with its decisions', async () => {
    const name = await pending();
    await kubectlOk(['approve', name, '-n', fx.namespace, '--reason', 'ok by me'], { kubeconfig: fx.kubeconfigs.bob, env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
    const result = await kubectlAs('alice', ['airlock', 'get', name, '-n', fx.namespace]);
    expect(result.stdout).toContain('Approvers:  e2e-apr-alice, e2e-apr-carol, group e2e-apr-sre (1 needed)');
    expect(result.stdout).toMatch(new RegExp(`Decision: {3}Approve by ${fx.usernames.bob} at \\S+: ok by me`));
  });
});
