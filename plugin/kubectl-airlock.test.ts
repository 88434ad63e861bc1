import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './kubectl-airlock.ts';
import type { KubeSession } from './kube-session.ts';
import type { KubeFlags } from './subcommand.ts';
import { approval, fakeApi, NOW } from './test-fixtures.ts';

async function run(argv: string[], stored = approval()): Promise<{ code: number; out: string; err: string; flags: KubeFlags[] }> {
  let out = '';
  let err = '';
  const flags: KubeFlags[] = [];
  const api = fakeApi({ stored });
  const connect = (f: KubeFlags): KubeSession => { flags.push(f); return { namespace: f.namespace ?? 'default', context: 'test', api }; };
  const code = await runCli({ argv, prog: 'kubectl airlock', io: { out: (t) => { out += t; }, err: (t) => { err += t; } }, connect, now: () => NOW });
  return { code, out, err, flags };
}

describe('kubectl airlock', () => {
  it('lists its commands for --help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^ {2}approve {7}Approve an ApprovalRequest/m);
    expect(out).toMatch(/^ {2}list {10}List pending/m);
    expect(out).toMatch(/^ {2}sessions {6}List recorded exec and attach sessions/m);
    expect(out).toMatch(/^ {2}rolebinding {3}Print the RoleBinding/m);
  });

  it('prints usage and exits 1 without a command', async () => {
    expect((await run([])).code).toBe(1);
  });

  it.each([
    [['frobnicate'], 'error: unknown command "frobnicate" for "kubectl airlock"; commands: list, get, approve, deny, sessions, replay, verify, rolebinding, bypass, completion\n'],
    [['approve', 'x', '--bogus'], 'error: unknown flag --bogus; see kubectl airlock approve --help\n'],
    [['approve', 'a', 'b'], 'error: one ApprovalRequest at a time; got a b\n'],
    [['deny'], 'error: name the ApprovalRequest to deny: kubectl airlock deny NAME --reason TEXT (see kubectl airlock list)\n'],
  ])('%j fails with one line', async (argv, line) => {
    const { code, err } = await run(argv);
    expect(code).toBe(1);
    expect(err).toBe(line);
  });

  it.each([
    [['-n', 'prod', '--context', 'ctx', 'approve', 'scale-api'], { namespace: 'prod', context: 'ctx', allNamespaces: false }],
    [['approve', 'scale-api', '--namespace=prod', '--kubeconfig', '/k'], { namespace: 'prod', kubeconfig: '/k', allNamespaces: false }],
    [['list', '-A'], { allNamespaces: true }],
  ])('passes kubectl\'s flags %j, before or after the command, to the connection', async (argv, flags) => {
    const result = await run(argv);
    expect(result.flags).toEqual([flags]);
  });

  it('approves, showing first what is approved', async () => {
    const { code, out } = await run(['approve', 'scale-api', '-n', 'prod', '--reason', 'ok']);
    expect(code).toBe(0);
    expect(out).toContain('Approving as alice:\nName:       prod/scale-api\nSummary:    scale deployment prod/api from 3 to 0 replicas\n');
    expect(out).toContain('approved: approvalrequest prod/scale-api has the approvals it needs (1 of 1); the held request goes through now\n');
  });

  it('approve --deny denies', async () => {
    const { out } = await run(['approve', 'scale-api', '-n', 'prod', '--deny', '--reason', 'not now']);
    expect(out).toContain('denied: approvalrequest prod/scale-api; the held request is refused with your reason');
  });

  it('approve without a name lists what the user may decide', async () => {
    const { out } = await run(['approve', '-n', 'prod']);
    expect(out.split('\n')[0]).toMatch(/^NAME +REQUESTER +SUMMARY +AGE +EXPIRES +APPROVALS$/);
    expect(out).toContain('scale-api');
  });

  it('says so when nothing is pending', async () => {
    const { code, err, out } = await run(['list', '-n', 'prod'], approval((a) => { a.status = { phase: 'Consumed' }; }));
    expect(code).toBe(0);
    expect(out).toBe('');
    expect(err).toBe('No pending ApprovalRequests in namespace prod.\n');
  });
});

describe('kubectl airlock rolebinding', () => {
  it('prints the RoleBinding of a ServiceAccount under the gateway-only name, needing no cluster', async () => {
    const { code, out, flags } = await run(['rolebinding', '--serviceaccount', 'ci:deployer', '--gateway', 'airlock-system/ci-gateway', '--clusterrole', 'edit', '-n', 'payments']);
    expect(code).toBe(0);
    expect(flags).toEqual([]);
    expect(parse(out)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
      metadata: { name: 'gateway-only-edit-ci-deployer', namespace: 'payments' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'airlock:airlock-system:ci-gateway:system:serviceaccount:ci:deployer' }],
    });
  });

  it('takes a group, a Role, a chosen prefix and name', async () => {
    const { out } = await run(['rolebinding', '--group', 'github:acme', '--prefix', 'airlock-prod:', '--role', 'deployer', '--name', 'acme', '-n', 'payments']);
    expect(parse(out)).toMatchObject({ metadata: { name: 'acme' }, roleRef: { kind: 'Role', name: 'deployer' }, subjects: [{ kind: 'Group', name: 'airlock-prod:github:acme' }] });
  });

  it.each([
    [['rolebinding', '--gateway', 'a/b', '--clusterrole', 'edit', '-n', 'x'], 'error: name one identity'],
    [['rolebinding', '--user', 'u', '--group', 'g', '--gateway', 'a/b', '--clusterrole', 'edit', '-n', 'x'], 'error: name one identity'],
    [['rolebinding', '--serviceaccount', 'deployer', '--gateway', 'a/b', '--clusterrole', 'edit', '-n', 'x'], 'error: --serviceaccount takes NAMESPACE:NAME'],
    [['rolebinding', '--user', 'u', '--clusterrole', 'edit', '-n', 'x'], 'error: name the gateway: --gateway NAMESPACE/NAME'],
    [['rolebinding', '--user', 'u', '--prefix', 'system:', '--clusterrole', 'edit', '-n', 'x'], 'error: --prefix must not start with "system:"'],
    [['rolebinding', '--user', 'u', '--gateway', 'a/b', '-n', 'x'], 'error: name one role to grant'],
    [['rolebinding', '--user', 'u', '--gateway', 'a/b', '--clusterrole', 'edit'], 'error: name the namespace the binding grants in'],
  ])('%j fails with one line saying what to give', async (argv, start) => {
    const { code, err } = await run(argv);
    expect(code).toBe(1);
    expect(err.startsWith(start)).toBe(true);
    expect(err.trim().split('\n')).toHaveLength(1);
  });
});
