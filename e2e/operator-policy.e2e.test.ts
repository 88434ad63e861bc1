// The AccessPolicy controller on the real API server (operator as a child process): a valid policy
// is Accepted with the gateways that select it; a bad rule is named in Accepted=False and in the
// gateway's PoliciesReady; fixing it brings both back; the operator writes only status.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

let operator: ChildProcess | undefined;
afterEach(async () => {
  if (operator === undefined || operator.exitCode !== null) return;
  const exited = new Promise((resolve) => operator?.once('exit', resolve));
  operator.kill('SIGTERM');
  await exited;
});

interface Status { conditions?: { type: string; status: string; reason: string; message: string }[]; selectedBy?: string[]; ruleCount?: number }

async function statusOf(kind: string, name: string, namespace: string): Promise<Status> {
  const out = await kubectl(['get', kind, name, '-o', 'jsonpath={.status}'], { namespace });
  return out.code === 0 && out.stdout !== '' ? JSON.parse(out.stdout) as Status : {};
}

const conditionOf = async (kind: string, name: string, namespace: string, type: string): Promise<string> => {
  const c = (await statusOf(kind, name, namespace)).conditions?.find((x) => x.type === type);
  return c === undefined ? '' : `${c.status} ${c.reason}: ${c.message}`;
};

function policy(namespace: string, maskField: string): string {
  return stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'payments-ci', namespace, labels: { team: 'payments' } },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'deploy', match: { apiGroups: ['apps'], namespaces: ['payments'] }, action: 'Allow' },
        { name: 'config', match: { resources: ['configmaps'] }, action: 'Allow', mask: { fields: [maskField] } },
      ],
    },
  });
}

describe('operator: AccessPolicy controller', () => {
  const ns = useTestNamespace('e2e-policy');

  it('accepts a valid policy naming its gateway, names a bad rule, and follows the fix; the gateway\'s PoliciesReady too', async () => {
    await installCrds();
    operator = spawn(process.execPath, ['operator/main.ts'], {
      env: { ...process.env, KUBECONFIG: testCluster().kubeconfig, AIRLOCK_LEADER_ELECTION: 'false', AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0', AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0' },
      stdio: 'ignore',
    });
    const sample = parse(await readFile('config/samples/airlock_v1alpha1_accessgateway.yaml', 'utf8')) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    sample.metadata['namespace'] = ns.name;
    sample.spec['policySelector'] = { matchLabels: { team: 'payments' } };
    await kubectlOk(['apply', '-f', '-'], { input: stringify(sample) });
    await kubectlOk(['apply', '-f', '-'], { input: policy(ns.name, '.data.*') });

    await expect.poll(() => conditionOf('accesspolicy', 'payments-ci', ns.name, 'Accepted'), { timeout: 30_000 }).toMatch(/^True Valid: 2 rule/);
    await expect.poll(async () => (await statusOf('accesspolicy', 'payments-ci', ns.name)).selectedBy, { timeout: 30_000 }).toEqual([`${ns.name}/ci-gateway`]);
    expect((await statusOf('accesspolicy', 'payments-ci', ns.name)).ruleCount).toBe(2);
    await expect.poll(() => conditionOf('accessgateway', 'ci-gateway', ns.name, 'PoliciesReady'), { timeout: 30_000 }).toMatch(/^True AllAccepted: 1 AccessPolicy selected, accepted\.$/);
    await expect.poll(() => conditionOf('accesspolicy', 'payments-ci', ns.name, 'Accepted'), { timeout: 30_000 }).toBe('True Valid: 2 rules valid, enforced by AccessGateway ci-gateway.');
    // What a person reads in `kubectl get`: the gateway's name, not a JSON array.
    await expect.poll(() => kubectlOk(['get', 'accesspolicy', 'payments-ci'], { namespace: ns.name }), { timeout: 30_000 })
      .toMatch(/^NAME\s+ACCEPTED\s+RULES\s+GATEWAYS\s+AGE\npayments-ci\s+True\s+2\s+ci-gateway\s+\S+\n?$/);
    // A healthy start is no failure: the rollout's steps are Normal events, not Warnings.
    await expect.poll(() => conditionOf('accessgateway', 'ci-gateway', ns.name, 'Ready'), { timeout: 60_000 }).toMatch(/^True/);
    const warnings = await kubectlOk(['get', 'events', '--field-selector', 'involvedObject.kind=AccessGateway,involvedObject.name=ci-gateway,type=Warning', '-o', 'jsonpath={.items[*].reason}'], { namespace: ns.name });
    expect(warnings).toBe('');

    await kubectlOk(['apply', '-f', '-'], { input: policy(ns.name, '.data[0]') });
    await expect.poll(() => conditionOf('accesspolicy', 'payments-ci', ns.name, 'Accepted'), { timeout: 30_000 }).toContain('False InvalidRule: rule "config": mask.fields[0]: mask field path ".data[0]" is not of the form .a.b[*].c or .a[\'key\']; the gateways enforce rule "config" as Deny (fail closed) until it is fixed.');
    await expect.poll(() => conditionOf('accessgateway', 'ci-gateway', ns.name, 'PoliciesReady'), { timeout: 30_000 }).toMatch(/^False PolicyRejected: 1 of 1 selected AccessPolicies are not accepted \(payments-ci\)/);
    await expect.poll(async () => kubectlOk(['get', 'events', '--field-selector', 'involvedObject.kind=AccessPolicy,involvedObject.name=payments-ci', '-o', 'jsonpath={.items[*].reason}'], { namespace: ns.name }), { timeout: 30_000 }).toContain('InvalidRule');

    await kubectlOk(['apply', '-f', '-'], { input: policy(ns.name, '.data.*') });
    await expect.poll(() => conditionOf('accessgateway', 'ci-gateway', ns.name, 'PoliciesReady'), { timeout: 30_000 }).toMatch(/^True/);

    // GitOps: the operator's field manager owns only the policy's status.
    const managed = JSON.parse(await kubectlOk(['get', 'accesspolicy', 'payments-ci', '-o', 'json', '--show-managed-fields'], { namespace: ns.name })) as {
      metadata: { managedFields: { manager: string; subresource?: string }[] };
    };
    expect(managed.metadata.managedFields.filter((f) => f.manager === 'airlock-operator').every((f) => f.subresource === 'status')).toBe(true);
    await kubectlOk(['delete', 'accessgateway', 'ci-gateway', '--wait=true', '--timeout=60s'], { namespace: ns.name });
  }, 150_000);
});
