import { describe, expect, it } from 'vitest';
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
    expect(out).toMatch(/^ {2}approve {6}Approve an ApprovalRequest/m);
    expect(out).toMatch(/^ {2}list {9}List pending/m);
    expect(out).toMatch(/^ {2}sessions {5}List recorded exec and attach sessions/m);
  });

  it('prints usage and exits 1 without a command', async () => {
    expect((await run([])).code).toBe(1);
  });

  it.each([
    [['frobnicate'], 'error: unknown command "frobnicate" for "kubectl airlock"; commands: list, get, approve, deny, sessions, replay, verify, completion\n'],
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
