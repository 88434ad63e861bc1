// The optional admission backstop (crds/admission/optional/gateway-only-writes.yaml) on the real
// API server: a governed ServiceAccount whose own name holds RBAC (a gateway in mode Caller) writes
// through the gateway, and the same write with its own token straight at the API server is
// refused; so are its deletes, and an attempt to set the gateway's extra itself. Reads are not
// stopped by admission, and the test says so by asserting it. The policy is applied as shipped,
// with only its name and governed list changed, so parallel runs on one cluster stay apart.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { writeKubeconfig } from '../hack/controlplane/index.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const ID = randomBytes(3).toString('hex');
const NS = `e2e-backstop-${ID}`;
const POLICY_NS = `${NS}-policy`;
const NAME = `airlock-gateway-only-writes-${ID}`;
const SA_USER = `system:serviceaccount:${NS}:deployer`;

let gw: TestGateway | undefined;
let through = '';
let direct = '';

type Obj = Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> };

/** The shipped policy and binding, renamed for this run and governing this run's ServiceAccount. */
async function shippedBackstop(): Promise<Obj[]> {
  const docs = parseAllDocuments(await readFile('crds/admission/optional/gateway-only-writes.yaml', 'utf8')).map((d) => d.toJS() as Obj);
  const [policy, binding] = docs;
  if (policy === undefined || binding === undefined) throw new Error('the backstop file holds a policy and its binding');
  const variables = policy.spec['variables'] as { name: string; expression: string }[];
  const set = (name: string, expression: string): void => {
    const variable = variables.find((v) => v.name === name);
    if (variable === undefined) throw new Error(`the shipped policy has no variable ${name}`);
    variable.expression = expression;
  };
  set('governedUsers', JSON.stringify([SA_USER]).replaceAll('"', "'"));
  set('governedServiceAccountNamespaces', '[]');
  set('governedGroups', '[]');
  policy.metadata['name'] = NAME;
  binding.metadata['name'] = NAME;
  binding.spec['policyName'] = NAME;
  return [policy, binding];
}

beforeAll(async () => {
  await installCrds();
  for (const ns of [NS, POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['create', 'serviceaccount', 'deployer', '-n', NS]);
  // The bypass the backstop closes for writes: RBAC under the ServiceAccount's own name.
  await kubectlOk(['create', 'rolebinding', 'deployer-edit', '-n', NS, '--clusterrole=edit', `--serviceaccount=${NS}:deployer`]);
  await kubectlOk(['create', 'configmap', 'existing', '-n', NS, '--from-literal=k=v']);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'deployer', namespace: POLICY_NS },
    spec: {
      subjects: [{ serviceAccount: { namespace: NS, name: 'deployer' } }],
      rules: [
        { name: 'configmaps', match: { resources: ['configmaps'], namespaces: [NS] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
      ],
    },
  }) });
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: (await shippedBackstop()).map((d) => stringify(d)).join('---\n') });
  gw = await startTestGateway({ name: `backstop-${ID}`, policyNamespace: POLICY_NS });
  const token = (await kubectlOk(['create', 'token', 'deployer', '-n', NS, '--duration=1h'])).trim();
  through = await gw.kubeconfigFor(token, 'deployer');
  const server = /server: (\S+)/.exec(await readFile(testCluster().kubeconfig, 'utf8'))?.[1] ?? '';
  direct = await writeKubeconfig(join(gw.dir, 'direct.kubeconfig'), { server, caCertFile: gw.caFile, user: 'deployer', token, namespace: NS });
  // A new policy takes a moment to be enforced: wait until a direct write is refused.
  for (const deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 500))) {
    const probe = await kubectl(['create', 'configmap', `probe-${Date.now()}`, '-n', NS], { kubeconfig: direct });
    if (probe.stderr.includes('may write only through an Airlock gateway')) break;
    if (Date.now() > deadline) throw new Error(`the backstop was not enforced within 20 s: ${probe.stderr}`);
  }
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', NAME]);
  await kubectl(['delete', 'namespace', NS, POLICY_NS, '--wait=false']);
});

describe('the admission backstop for a governed ServiceAccount', () => {
  it('refuses a direct write, with the reason and the fix, and allows the same write through the gateway', async () => {
    const refused = await kubectl(['create', 'configmap', 'made', '-n', NS, '--from-literal=k=v'], { kubeconfig: direct });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`ValidatingAdmissionPolicy '${NAME}'`);
    expect(refused.stderr).toContain(`User ${SA_USER} may write only through an Airlock gateway: point its kubeconfig at the gateway instead of the API server`);
    expect((await kubectl(['get', 'configmap', 'made', '-n', NS])).code).not.toBe(0);
    const allowed = await kubectl(['create', 'configmap', 'made', '-n', NS, '--from-literal=k=v'], { kubeconfig: through });
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it.each([
    ['an update', ['label', 'configmap', 'existing', 'changed=yes']],
    ['a server-side apply', ['apply', '--server-side', '--force-conflicts', '-f', '-']],
    ['a delete', ['delete', 'configmap', 'existing']],
  ])('refuses %s straight at the API server', async (_name, args) => {
    const input = stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'existing', namespace: NS }, data: { k: 'applied' } });
    const result = await kubectl(['-n', NS, ...args], { kubeconfig: direct, input });
    expect(result.stderr).toContain('may write only through an Airlock gateway');
    const stored = JSON.parse(await kubectlOk(['get', 'configmap', 'existing', '-n', NS, '-o', 'json'])) as { data: Record<string, string>; metadata: { labels?: Record<string, string> } };
    expect(stored.data).toEqual({ k: 'v' });
    expect(stored.metadata.labels?.['changed']).toBeUndefined();
  });

  it('attack: the ServiceAccount setting the gateway\'s extra on itself is refused by RBAC (only gateways may impersonate it)', async () => {
    const result = await kubectl(['create', 'configmap', 'forged', '-n', NS, `--as=${SA_USER}`, '--as-user-extra=airlock.dev/audit-id=forged'], { kubeconfig: direct });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/cannot impersonate resource "(serviceaccounts|userextras\/airlock.dev\/audit-id)"/);
    expect((await kubectl(['get', 'configmap', 'forged', '-n', NS])).code).not.toBe(0);
  });

  it('does not stop reads: admission never sees them (identity.forwardAs GatewayOnly does)', async () => {
    const read = await kubectl(['get', 'configmap', 'existing', '-n', NS, '-o', 'jsonpath={.data.k}'], { kubeconfig: direct });
    expect(read.stdout, read.stderr).toBe('v');
  });

  it('leaves identities it does not govern alone', async () => {
    expect((await kubectl(['create', 'configmap', 'by-admin', '-n', NS])).code).toBe(0);
  });
});
