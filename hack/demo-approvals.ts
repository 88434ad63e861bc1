// The approvals scene of the demo: the CI identity's `kubectl scale` is held by the gateway; alice,
// a real user with her own client certificate, sees it with `kubectl approve` and approves it; the
// held command completes, once. Called by hack/demo-gateway.ts with its running gateway.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { issueClientCertificate, pkiPaths, repoRoot, writeKubeconfig, type ControlPlane } from './controlplane/index.ts';
import type { LocalGateway } from './local-gateway.ts';

const run = promisify(execFile);
const bold = (s: string): string => `\u001b[1m${s}\u001b[0m`;
export const DEMO_APPROVER = 'alice@example.com';

/** The AccessPolicy rule the scene needs (added to the demo policy). */
export const SCALE_NEEDS_APPROVAL = {
  name: 'scale-needs-approval',
  match: { verbs: ['patch', 'update'], apiGroups: ['apps'], resources: ['deployments/scale'], namespaces: ['payments'] },
  action: 'RequireApproval',
  message: 'scaling payments needs a second pair of eyes',
  approval: { approvers: { users: [DEMO_APPROVER] }, mode: 'Wait', timeout: '5m' },
};

interface Scene {
  readonly cp: ControlPlane;
  readonly gw: LocalGateway;
  /** The CI identity's kubeconfig (through the gateway). */
  readonly ci: string;
  /** Where alice's key, certificate and kubeconfig go. */
  readonly demoDir: string;
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
}

async function kubectl(cp: ControlPlane, args: readonly string[], env: Record<string, string>, input?: string): Promise<string> {
  const child = run(cp.kubectlPath, [...args], { env: { ...process.env, ...env } });
  if (input !== undefined) child.child.stdin?.end(input);
  return child.then((r) => r.stdout, (e: unknown) => (e as { stderr: string }).stderr);
}

async function aliceKubeconfig(cp: ControlPlane, admin: Record<string, string>, dir: string): Promise<string> {
  const pki = { ...pkiPaths(join(cp.dir, 'pki')), dir };
  const cert = await issueClientCertificate(pki, DEMO_APPROVER);
  await kubectl(cp, ['apply', '-f', join(repoRoot, 'config/rbac/approvalrequest_approver_role.yaml')], admin);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'demo-approver', namespace: 'airlock-system' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'airlock-approvalrequest-approver' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: DEMO_APPROVER }],
  };
  await kubectl(cp, ['apply', '-f', '-'], admin, JSON.stringify(binding));
  return writeKubeconfig(join(pki.dir, 'alice.kubeconfig'), { server: cp.server, caCertFile: pki.caCert, user: DEMO_APPROVER, clientCertFile: cert.cert, clientKeyFile: cert.key, namespace: 'airlock-system' });
}

const listRequests = async (cp: ControlPlane, admin: Record<string, string>): Promise<string[][]> =>
  (await kubectl(cp, ['get', 'approvalrequests', '-n', 'airlock-system', '-l', 'airlock.dev/gateway=demo', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}'], admin))
    .trim().split('\n').filter((r) => r !== '').map((r) => r.split(' '));

/** The ApprovalRequest this scene's command created: new since `before`, and still undecided. */
async function heldRequest(cp: ControlPlane, admin: Record<string, string>, before: ReadonlySet<string>): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const name = (await listRequests(cp, admin)).find(([n, phase]) => n !== undefined && !before.has(n) && (phase ?? 'Pending') === 'Pending')?.[0];
    if (name !== undefined) return name;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('demo: the gateway did not create an ApprovalRequest');
}

export async function approvalScene({ cp, gw, ci, demoDir }: Scene): Promise<void> {
  const admin = { KUBECONFIG: cp.kubeconfig };
  await kubectl(cp, ['create', 'deployment', 'api', '--image=registry.example/api:1', '--replicas=3', '-n', 'payments'], admin);
  const alice = { KUBECONFIG: await aliceKubeconfig(cp, admin, demoDir), PATH: `${join(repoRoot, 'plugin', 'bin')}:${process.env['PATH'] ?? ''}` };
  const before = new Set((await listRequests(cp, admin)).map(([n]) => n ?? ''));
  console.log(`\n${bold('Just-in-time approval:')} the CI job scales payments/api to 0; policy rule "scale-needs-approval" holds it`);
  console.log(bold('$ kubectl scale deployment api --replicas=0 -n payments   # (CI, through the gateway: waits)'));
  const scaling = kubectl(cp, ['scale', 'deployment', 'api', '--replicas=0', '-n', 'payments'], { KUBECONFIG: ci });
  const name = await heldRequest(cp, admin, before);
  console.log(`${bold('$ kubectl approve')}   # alice, as herself (her kubeconfig: ${alice.KUBECONFIG})`);
  console.log(indent(await kubectl(cp, ['approve'], alice)));
  console.log(bold(`$ kubectl approve ${name} --reason "planned scale-down"`));
  console.log(indent(await kubectl(cp, ['approve', name, '--reason', 'planned scale-down'], alice)));
  console.log(`${bold('CI job:')}\n${indent(await scaling)}`);
  const replicas = await kubectl(cp, ['get', 'deployment', 'api', '-n', 'payments', '-o', 'jsonpath={.spec.replicas}'], admin);
  const [phase = '', auditID = ''] = (await kubectl(cp, ['get', 'approvalrequest', name, '-n', 'airlock-system', '-o', 'jsonpath={.status.phase} {.status.consumedBy.auditID}'], admin)).split(' ');
  const used = phase === 'Consumed' ? `Consumed by the request with audit id ${auditID} (used once; the same command again needs a new approval)` : `${phase} (not used)`;
  console.log(`  payments/api now has ${replicas} replicas; ApprovalRequest ${name}: ${used}`);
  console.log(`  audit file: ${gw.auditFile}`);
}
