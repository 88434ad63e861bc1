// Real, distinct identities for the approval tests: people with client certificates signed by the
// control plane's CA (one kubeconfig each), and the gateway and operator ServiceAccounts with
// TokenRequest tokens. The integrity policy of crds/admission is installed under a unique name
// and bound to this fixture's namespace only, because the control plane is shared by other tests.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { issueClientCertificate, pkiPaths, writeKubeconfig } from '../../hack/controlplane/index.ts';
import { installCrds } from './crds.ts';
import { kubectl, kubectlOk, testCluster } from './kubectl.ts';

export const POLICY_FILE = 'crds/admission/approvalrequest-integrity.yaml';
export const APPROVER_ROLE_FILE = 'config/rbac/approvalrequest_approver_role.yaml';

/** People, by role; usernames are fixed so a failing test's messages read well. */
export const PEOPLE = {
  alice: { user: 'e2e-apr-alice', groups: [] },
  bob: { user: 'e2e-apr-bob', groups: ['e2e-apr-sre'] },
  mallory: { user: 'e2e-apr-mallory', groups: [] },
  carol: { user: 'e2e-apr-carol', groups: [] },
  dave: { user: 'e2e-apr-dave', groups: ['e2e-apr-sre'] },
  eve: { user: 'e2e-apr-eve', groups: [] },
} as const;
export const APPROVER_GROUP = 'e2e-apr-sre';
export type Person = keyof typeof PEOPLE;
export type Identity = Person | 'gateway' | 'otherGateway' | 'operator';

export const GATEWAY = 'ci';

export interface ApprovalFixture {
  readonly namespace: string;
  readonly dir: string;
  readonly server: string;
  readonly kubeconfigs: Readonly<Record<Identity, string>>;
  readonly usernames: Readonly<Record<Identity, string>>;
  cleanup(): Promise<void>;
}

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string } };

export async function adminServer(): Promise<string> {
  const config = parse(await readFile(testCluster().kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  const server = config.clusters[0]?.cluster.server;
  if (server === undefined) throw new Error('the admin kubeconfig names no cluster');
  return server;
}

/** The shipped policy and binding, renamed, bound to one namespace, naming a test operator. */
export async function scopedIntegrityPolicy(namespace: string, operatorNamespace: string): Promise<Obj[]> {
  const docs = parseAllDocuments(await readFile(POLICY_FILE, 'utf8')).map((d) => d.toJS() as Obj);
  const name = `airlock-e2e-integrity-${namespace}`;
  return docs.map((doc) => {
    const spec = doc['spec'] as Record<string, unknown>;
    if (doc.kind === 'ValidatingAdmissionPolicy') {
      // What config/default's kustomize replacement does for the operator's namespace.
      for (const v of spec['variables'] as { name: string; expression: string }[]) {
        if (v.name === 'operatorUsername') v.expression = v.expression.replace(':airlock-system:', `:${operatorNamespace}:`);
      }
      return { ...doc, metadata: { ...doc.metadata, name } };
    }
    return {
      ...doc,
      metadata: { ...doc.metadata, name },
      spec: { ...spec, policyName: name, matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } } },
    };
  });
}

export async function personKubeconfig(options: { dir: string; server: string; namespace: string; person: Person }): Promise<string> {
  const clusterDir = inject('clusterDir');
  const { user, groups } = PEOPLE[options.person];
  // Keys go to this fixture's directory; only the CA comes from the control plane.
  const pki = { ...pkiPaths(join(clusterDir, 'pki')), dir: options.dir };
  const cert = await issueClientCertificate(pki, user, groups);
  return writeKubeconfig(join(options.dir, `${options.person}.kubeconfig`), {
    server: options.server, caCertFile: pki.caCert, user, clientCertFile: cert.cert, clientKeyFile: cert.key, namespace: options.namespace,
  });
}

async function serviceAccountKubeconfig(options: { dir: string; server: string; namespace: string; name: string }): Promise<string> {
  await kubectlOk(['create', 'serviceaccount', options.name, '-n', options.namespace]);
  const token = (await kubectlOk(['create', 'token', options.name, '-n', options.namespace, '--duration=1h'])).trim();
  return writeKubeconfig(join(options.dir, `${options.name}.kubeconfig`), {
    server: options.server, caCertFile: join(inject('clusterDir'), 'pki', 'ca.crt'), user: options.name, token, namespace: options.namespace,
  });
}

/** RBAC first: who may try which write. The policy then judges what they write. */
async function grantRbac(namespace: string, approverRole: Obj): Promise<void> {
  const airlockRules = [
    { apiGroups: ['airlock.dev'], resources: ['approvalrequests'], verbs: ['get', 'list', 'watch', 'create'] },
    { apiGroups: ['airlock.dev'], resources: ['approvalrequests/status'], verbs: ['get', 'patch', 'update'] },
  ];
  const role = (name: string, rules: unknown): object => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules });
  const binding = (name: string, subjects: unknown): object => ({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects,
  });
  const user = (p: Person): object => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: PEOPLE[p].user });
  const sa = (name: string): object => ({ kind: 'ServiceAccount', name, namespace });
  const items = [
    // The shipped approver ClusterRole's rules, as a Role: eve gets none of it.
    role('approver', approverRole['rules']),
    binding('approver', [user('alice'), user('mallory'), user('carol'), user('dave'),
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: APPROVER_GROUP }]),
    role('airlock', airlockRules),
    binding('airlock', [sa(`airlock-gateway-${GATEWAY}`), sa('airlock-gateway-other'), sa('airlock-operator')]),
  ];
  await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items }) });
}

/** Waits until the policy judges writes in the namespace (policies take a moment to load). */
export async function waitForPolicy(namespace: string, gatewayKubeconfig: string): Promise<void> {
  const probe = 'policy-probe';
  await kubectlOk(['create', '-f', '-'], { kubeconfig: gatewayKubeconfig, input: stringify(approvalRequest({ name: probe, namespace })) });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const result = await kubectl(['patch', 'apr', probe, '-n', namespace, '--subresource=status', '--type=merge', '--dry-run=server',
      '-p', '{"status":{"phase":"Approved"}}']);
    if (result.stderr.includes('ValidatingAdmissionPolicy')) break;
    if (Date.now() > deadline) throw new Error(`the integrity policy did not take effect in 30 s: ${result.stderr}${result.stdout}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await kubectlOk(['delete', 'apr', probe, '-n', namespace]);
}

export interface RequestOptions {
  readonly name: string;
  readonly namespace: string;
  readonly minApprovals?: number;
  readonly summary?: string;
  readonly expiresAt?: string;
}

/** An ApprovalRequest as the gateway writes it: carol asks, impersonating dave; alice, carol and the sre group approve. */
export function approvalRequest(options: RequestOptions): object {
  const digest = `sha256:${'0'.repeat(64)}`;
  return {
    apiVersion: 'airlock.dev/v1alpha1',
    kind: 'ApprovalRequest',
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      requester: {
        caller: { username: PEOPLE.carol.user, groups: ['system:authenticated'] },
        effective: { username: PEOPLE.dave.user, groups: [APPROVER_GROUP] },
      },
      request: {
        verb: 'patch', apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: 'scale',
        namespace: 'prod', name: 'api', summary: options.summary ?? 'scale deployment prod/api from 3 to 0 replicas',
        bodyDigest: digest, fingerprint: digest,
      },
      policy: { namespace: options.namespace, name: 'payments-ci', rule: 'scale-prod-needs-approval' },
      approvers: { users: [PEOPLE.alice.user, PEOPLE.carol.user], groups: [APPROVER_GROUP] },
      minApprovals: options.minApprovals ?? 1,
      gateway: GATEWAY,
      expiresAt: options.expiresAt ?? new Date(Date.now() + 15 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  };
}

export async function setUpApprovalFixture(prefix: string): Promise<ApprovalFixture> {
  const clusterDir = inject('clusterDir');
  if (clusterDir === '') throw new Error('approval e2e tests need the local control plane (its CA signs the test users\' certificates)');
  // This checkout's CRDs: the fields the policy judges (e.g. decision.groups) must be served.
  await installCrds();
  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), `airlock-${prefix}-`));
  const server = await adminServer();
  await kubectlOk(['create', 'namespace', namespace]);
  const policy = await scopedIntegrityPolicy(namespace, namespace);
  const cleanup = async (): Promise<void> => {
    for (const doc of [...policy].reverse()) await kubectl(['delete', '--ignore-not-found', doc.kind, doc.metadata.name]);
    await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await grantRbac(namespace, parse(await readFile(APPROVER_ROLE_FILE, 'utf8')) as Obj);
    const kubeconfigs: Partial<Record<Identity, string>> = {};
    for (const person of Object.keys(PEOPLE) as Person[]) kubeconfigs[person] = await personKubeconfig({ dir, server, namespace, person });
    kubeconfigs.gateway = await serviceAccountKubeconfig({ dir, server, namespace, name: `airlock-gateway-${GATEWAY}` });
    kubeconfigs.otherGateway = await serviceAccountKubeconfig({ dir, server, namespace, name: 'airlock-gateway-other' });
    kubeconfigs.operator = await serviceAccountKubeconfig({ dir, server, namespace, name: 'airlock-operator' });
    await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items: policy }) });
    await waitForPolicy(namespace, kubeconfigs.gateway);
    const sa = (name: string): string => `system:serviceaccount:${namespace}:${name}`;
    const usernames = {
      ...Object.fromEntries(Object.entries(PEOPLE).map(([k, v]) => [k, v.user])) as Record<Person, string>,
      gateway: sa(`airlock-gateway-${GATEWAY}`), otherGateway: sa('airlock-gateway-other'), operator: sa('airlock-operator'),
    };
    return { namespace, dir, server, kubeconfigs: kubeconfigs as Record<Identity, string>, usernames, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
