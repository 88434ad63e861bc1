// Two operators against the real API server, as child processes with leader election on: exactly
// one leads and only it reconciles; killed (SIGKILL, no release) right after a gateway is applied,
// while its first reconcile is in flight, the other takes over when the lease expires and finishes
// the job with no duplicate objects; spec changes keep flowing through the new leader.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

const GATEWAY = 'ci-gateway';

interface Operator { readonly name: string; readonly child: ChildProcess; readonly output: string[] }
const running: Operator[] = [];

function startOperator(namespace: string, name: string): Operator {
  const output: string[] = [];
  const child = spawn(process.execPath, ['operator/main.ts'], {
    env: {
      ...process.env, KUBECONFIG: testCluster().kubeconfig, POD_NAMESPACE: namespace, POD_NAME: name,
      AIRLOCK_LEADER_ELECTION: 'true', AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0', AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0', AIRLOCK_GATEWAY_IMAGE: 'airlock:e2e',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  const op = { name, child, output };
  running.push(op);
  return op;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map(async (op) => {
    if (op.child.exitCode !== null || op.child.signalCode !== null) return;
    const exited = new Promise((resolve) => op.child.once('exit', resolve));
    op.child.kill('SIGTERM');
    await exited;
  }));
});

const leads = (op: Operator): boolean => op.output.join('').includes('"started leading"');

async function holder(namespace: string): Promise<string> {
  const out = await kubectl(['get', 'lease', 'airlock-operator', '-n', namespace, '-o', 'jsonpath={.spec.holderIdentity}']);
  return out.code === 0 ? out.stdout : '';
}

async function count(kind: string, namespace: string): Promise<number> {
  const list = JSON.parse(await kubectlOk(['get', kind, '-o', 'json', '-l', `app.kubernetes.io/instance=${GATEWAY}`], { namespace })) as { items: unknown[] };
  return list.items.length;
}

async function applyGateway(namespace: string): Promise<void> {
  const sample = parse(await readFile('config/samples/airlock_v1alpha1_accessgateway.yaml', 'utf8')) as { metadata: Record<string, unknown> };
  sample.metadata['namespace'] = namespace;
  await kubectlOk(['apply', '-f', '-'], { input: stringify(sample) });
}

describe('operator: high availability', () => {
  const ns = useTestNamespace('e2e-ha');

  it('runs exactly one leader of two; after the leader is killed mid-reconcile the other finishes with no duplicates', async () => {
    await installCrds();
    const a = startOperator(ns.name, 'op-a');
    const b = startOperator(ns.name, 'op-b');
    await expect.poll(() => holder(ns.name), { timeout: 30_000 }).toMatch(/^op-[ab]_/);
    const leaderName = (await holder(ns.name)).slice(0, 4);
    const [leader, follower] = leaderName === 'op-a' ? [a, b] : [b, a];
    await expect.poll(() => leads(leader), { timeout: 15_000 }).toBe(true);
    expect(leads(follower)).toBe(false);

    await applyGateway(ns.name);
    // Kill the leader as soon as its reconcile has started writing (its first owned object exists).
    await expect.poll(async () => (await kubectl(['get', 'serviceaccount', `airlock-gateway-${GATEWAY}`], { namespace: ns.name })).code, { timeout: 30_000, interval: 50 }).toBe(0);
    leader.child.kill('SIGKILL');
    // The follower takes over once the lease expires (it was not released) and converges.
    await expect.poll(() => leads(follower), { timeout: 60_000 }).toBe(true);
    expect(await holder(ns.name)).toMatch(new RegExp(`^${follower.name}_`));
    await expect.poll(async () => {
      const gw = JSON.parse(await kubectlOk(['get', 'accessgateway', GATEWAY, '-o', 'json'], { namespace: ns.name })) as { metadata: { generation: number }; status?: { observedGeneration?: number } };
      return gw.status?.observedGeneration === gw.metadata.generation;
    }, { timeout: 60_000 }).toBe(true);
    for (const [kind, expected] of [['deployments', 1], ['serviceaccounts', 1], ['configmaps', 1], ['services', 2], ['replicasets', 1]] as const) {
      await expect.poll(() => count(kind, ns.name), { timeout: 30_000 }).toBe(expected);
    }
    // The new leader follows spec changes.
    await kubectlOk(['patch', 'accessgateway', GATEWAY, '--type=merge', '-p', '{"spec":{"replicas":3}}'], { namespace: ns.name });
    await expect.poll(async () => (await kubectlOk(['get', 'deployment', GATEWAY, '-o', 'jsonpath={.spec.replicas}'], { namespace: ns.name })).trim(), { timeout: 30_000 }).toBe('3');
    await kubectlOk(['delete', 'accessgateway', GATEWAY, '--wait=true', '--timeout=60s'], { namespace: ns.name });
  }, 180_000);
});
