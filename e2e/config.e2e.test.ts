// config/ on the real API server: config/default builds with the pinned kubectl's kustomize and a
// server-side dry run accepts every object; the operator's ClusterRole holds every permission it
// grants a gateway (checked by the API server's own RBAC escalation prevention, acting as a
// ServiceAccount bound to that role); and everything the builders make for the sample gateway is
// accepted by the API server when the operator's ServiceAccount creates it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { AccessGateway } from '../crds/types.gen.ts';
import { buildGatewayCredentialSecret } from '../operator/resources/gateway-credential.ts';
import { buildGatewayObjects, gatewayObjectList } from '../operator/resources/gateway-objects.ts';
import { GATEWAY_CLUSTER_RULES, type PolicyRule } from '../operator/resources/gateway-rbac.ts';
import { buildCaSecret, buildServingTlsSecret } from '../operator/resources/gateway-tls.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  rules?: PolicyRule[];
}

const NAMESPACE = 'airlock-system';

async function buildDefault(): Promise<Obj[]> {
  return parseAllDocuments(await kubectlOk(['kustomize', 'config/default'])).map((d) => d.toJS() as Obj);
}

/** A certificate and its key that the API server accepts in a kubernetes.io/tls Secret (openssl, as hack/ uses). */
async function selfSignedPems(): Promise<{ certPem: string; keyPem: string; caBundlePem: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-e2e-tls-'));
  try {
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '1', '-subj', '/CN=ci-gateway']);
    const certPem = await readFile(join(dir, 'tls.crt'), 'utf8');
    return { certPem, keyPem: await readFile(join(dir, 'tls.key'), 'utf8'), caBundlePem: certPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const asList = (items: readonly object[]): string => stringify({ apiVersion: 'v1', kind: 'List', items });

/** Every (group, resource, verb) a gateway ClusterRole grants. */
const gatewayPermissions = GATEWAY_CLUSTER_RULES.flatMap((rule) => rule.apiGroups.flatMap((group) =>
  rule.resources.flatMap((resource) => rule.verbs.map((verb) => ({ group, resource, verb })))));

describe('config/default', () => {
  let built: Obj[] = [];
  let createdNamespace = false;

  beforeAll(async () => {
    built = await buildDefault();
    // A dry run creates nothing, so the namespaced objects need the namespace to exist for real.
    if ((await kubectl(['get', 'namespace', NAMESPACE])).code !== 0) {
      await kubectlOk(['create', 'namespace', NAMESPACE]);
      createdNamespace = true;
    }
  });

  afterAll(async () => {
    if (createdNamespace) await kubectl(['delete', 'namespace', NAMESPACE, '--wait=false']);
  });

  it('builds with kubectl kustomize into the API, the RBAC and the operator', () => {
    const names = built.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining([
      'Namespace/airlock-system',
      'CustomResourceDefinition/accessgateways.airlock.dev',
      'CustomResourceDefinition/accesspolicies.airlock.dev',
      'CustomResourceDefinition/approvalrequests.airlock.dev',
      'ClusterRole/airlock-operator',
      'ClusterRoleBinding/airlock-operator',
      'Role/airlock-operator-leader-election',
      'RoleBinding/airlock-operator-leader-election',
      'ServiceAccount/airlock-operator',
      'Deployment/airlock-operator',
      'Service/airlock-operator-metrics',
      'ClusterRole/airlock-accessgateway-viewer',
      'ClusterRole/airlock-approvalrequest-approver',
    ]));
    for (const o of built.filter((x) => ['ServiceAccount', 'Role', 'RoleBinding', 'Deployment', 'Service'].includes(x.kind))) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE);
    }
    for (const crd of built.filter((o) => o.kind === 'CustomResourceDefinition')) {
      expect(crd.metadata.annotations?.['argocd.argoproj.io/sync-wave'], crd.metadata.name).toBe('-1');
    }
  });

  it('is accepted by the API server (kubectl apply --dry-run=server -k config/default)', async () => {
    const out = await kubectlOk(['apply', '--dry-run=server', '-k', 'config/default']);
    process.stderr.write(`\n--- kubectl apply --dry-run=server -k config/default ---\n${out}`);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(built.length);
    for (const line of lines) expect(line).toMatch(/ (created|configured|unchanged) \(server dry run\)$/);
  });

  it.each(gatewayPermissions)('gives the operator the gateway permission $verb $resource ($group)', ({ group, resource, verb }) => {
    const role = built.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'airlock-operator');
    const held = (role?.rules ?? []).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    expect(held).toBe(true);
  });
});

describe('the operator ServiceAccount, bound to config/rbac', () => {
  const ns = useTestNamespace('opr');
  const cleanup: string[][] = [];
  let operatorRole: Obj;

  beforeAll(async () => {
    await installCrds();
    const role = (await buildDefault()).find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'airlock-operator');
    if (role === undefined) throw new Error('config/default has no ClusterRole airlock-operator');
    operatorRole = role;
  });

  afterAll(async () => {
    for (const args of cleanup.reverse()) await kubectl(['delete', '--ignore-not-found', ...args]);
  });

  /** A ServiceAccount in the test namespace bound to a copy of a ClusterRole; returns its username. */
  async function serviceAccountWith(name: string, rules: readonly PolicyRule[]): Promise<string> {
    const roleName = `airlock-e2e-${ns.name}-${name}`;
    await kubectlOk(['create', 'serviceaccount', name], { namespace: ns.name });
    await kubectlOk(['create', '-f', '-'], { input: stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: roleName }, rules }) });
    cleanup.push(['clusterrole', roleName]);
    await kubectlOk(['create', 'clusterrolebinding', roleName, `--clusterrole=${roleName}`, `--serviceaccount=${ns.name}:${name}`]);
    cleanup.push(['clusterrolebinding', roleName]);
    return `system:serviceaccount:${ns.name}:${name}`;
  }

  async function sampleGatewayIn(namespace: string): Promise<AccessGateway> {
    const sample = parse(await readFile('config/samples/airlock_v1alpha1_accessgateway.yaml', 'utf8')) as AccessGateway;
    sample.metadata.namespace = namespace;
    await kubectlOk(['apply', '--server-side', '-f', '-'], { input: stringify(sample) });
    return JSON.parse(await kubectlOk(['get', 'accessgateway', 'ci-gateway', '-o', 'json'], { namespace })) as AccessGateway;
  }

  it('may create everything the builders make for the sample gateway, gateway RBAC included', async () => {
    const user = await serviceAccountWith('airlock-operator', operatorRole.rules ?? []);
    // The gateway pods meet the restricted Pod Security Standard: no warning may appear.
    await kubectlOk(['label', 'namespace', ns.name, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
    const gateway = await sampleGatewayIn(ns.name);
    const objects = gatewayObjectList(buildGatewayObjects(gateway, { defaultImage: 'airlock:dev' }));
    const pems = await selfSignedPems();
    const secrets = [
      buildCaSecret(ns.name, pems),
      buildServingTlsSecret(gateway, pems),
      buildGatewayCredentialSecret(gateway, { token: 'placeholder', issuedAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000) }),
    ];
    // For real, not a dry run: binding a ClusterRole is checked against the role, which must exist.
    cleanup.push(['clusterrole', `airlock-gateway-${ns.name}-ci-gateway`], ['clusterrolebinding', `airlock-gateway-${ns.name}-ci-gateway`]);
    const result = await kubectl(['create', `--as=${user}`, '-f', '-'], { input: asList([...objects, ...secrets]) });
    expect(result.stderr).toBe('');
    const created = result.stdout.trim().split('\n');
    expect(created).toHaveLength(objects.length + secrets.length);
    expect(created.every((line) => line.endsWith(' created'))).toBe(true);
    expect(result.stdout).toContain(`clusterrole.rbac.authorization.k8s.io/airlock-gateway-${ns.name}-ci-gateway created`);
    expect(result.stdout).toContain(`clusterrolebinding.rbac.authorization.k8s.io/airlock-gateway-${ns.name}-ci-gateway created`);
  });

  it.each([
    ['mint a token for a gateway ServiceAccount', ['create', 'serviceaccounts', '--subresource=token'], 'yes'],
    ['write AccessGateway status', ['patch', 'accessgateways.airlock.dev', '--subresource=status'], 'yes'],
    ['record an Event', ['create', 'events.events.k8s.io'], 'yes'],
    ['rewrite an AccessGateway spec', ['update', 'accessgateways.airlock.dev'], 'no'],
    ['exec into a pod', ['create', 'pods', '--subresource=exec'], 'no'],
  ])('asked whether it may %s, answers %s', async (_what, args, answer) => {
    const user = `system:serviceaccount:${ns.name}:airlock-operator`;
    await serviceAccountWith('airlock-operator', operatorRole.rules ?? []);
    const result = await kubectl(['auth', 'can-i', ...args, `--as=${user}`], { namespace: ns.name });
    expect(result.stdout.trim()).toBe(answer);
  });

  it('without the impersonation rules, is refused the gateway ClusterRole (the API server checks escalation)', async () => {
    const withoutImpersonation = (operatorRole.rules ?? []).filter((r) => !r.verbs.includes('impersonate'));
    const user = await serviceAccountWith('weak-operator', withoutImpersonation);
    const gateway = await sampleGatewayIn(ns.name);
    const { clusterRole } = buildGatewayObjects(gateway, { defaultImage: 'airlock:dev' });
    const result = await kubectl(['create', '--dry-run=server', `--as=${user}`, '-f', '-'], { input: stringify(clusterRole) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('is attempting to grant RBAC permissions not currently held');
  });
});
