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
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
}

async function kubectl(cp: ControlPlane, args: readonly string[], env: Record<string, string>): Promise<string> {
  return run(cp.kubectlPath, [...args], { env: { ...process.env, ...env } }).then((r) => r.stdout, (e: unknown) => (e as { stderr: string }).stderr);
}

async function aliceKubeconfig(cp: ControlPlane, admin: Record<string, string>): Promise<string> {
  const pki = { ...pkiPaths(join(cp.dir, 'pki')), dir: join(repoRoot, '.airlock', 'demo') };
  const cert = await issueClientCertificate(pki, DEMO_APPROVER);
  await kubectl(cp, ['apply', '-f', join(repoRoot, 'config/rbac/approvalrequest_approver_role.yaml')], admin);
  await kubectl(cp, ['create', 'rolebinding', 'demo-approver', '-n', 'airlock-system', '--clusterrole=airlock-approvalrequest-approver', `--user=${DEMO_APPROVER}`], admin);
  return writeKubeconfig(join(pki.dir, 'alice.kubeconfig'), { server: cp.server, caCertFile: pki.caCert, user: DEMO_APPROVER, clientCertFile: cert.cert, clientKeyFile: cert.key, namespace: 'airlock-system' });
}

async function heldRequest(cp: ControlPlane, admin: Record<string, string>): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const rows = await kubectl(cp, ['get', 'approvalrequests', '-n', 'airlock-system', '-l', 'airlock.dev/gateway=demo', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}'], admin);
    const name = rows.trim().split('\n').map((r) => r.split(' ')).find(([n, phase]) => n?.startsWith('patch-deployments') === true && phase !== 'Consumed')?.[0];
    if (name !== undefined) return name;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('demo: the gateway did not create an ApprovalRequest');
}

export async function approvalScene({ cp, gw, ci }: Scene): Promise<void> {
  const admin = { KUBECONFIG: cp.kubeconfig };
  await kubectl(cp, ['create', 'deployment', 'api', '--image=registry.example/api:1', '--replicas=3', '-n', 'payments'], admin);
  console.log(`\n${bold('Just-in-time approval:')} the CI job scales payments/api to 0; policy rule "scale-needs-approval" holds it`);
  console.log(bold('$ kubectl scale deployment api --replicas=0 -n payments   # (CI, through the gateway: waits)'));
  const scaling = kubectl(cp, ['scale', 'deployment', 'api', '--replicas=0', '-n', 'payments'], { KUBECONFIG: ci });
  const name = await heldRequest(cp, admin);
  const alice = { KUBECONFIG: await aliceKubeconfig(cp, admin), PATH: `${join(repoRoot, 'operator', 'cli', 'bin')}:${process.env['PATH'] ?? ''}` };
  console.log(`${bold('$ kubectl approve')}   # alice, as herself`);
  console.log(indent(await kubectl(cp, ['approve'], alice)));
  console.log(bold(`$ kubectl approve ${name} --reason "planned scale-down"`));
  console.log(indent(await kubectl(cp, ['approve', name, '--reason', 'planned scale-down'], alice)));
  console.log(`${bold('CI job:')}\n${indent(await scaling)}`);
  const replicas = await kubectl(cp, ['get', 'deployment', 'api', '-n', 'payments', '-o', 'jsonpath={.spec.replicas}'], admin);
  const phase = await kubectl(cp, ['get', 'approvalrequest', name, '-n', 'airlock-system', '-o', 'jsonpath={.status.phase} by audit id {.status.consumedBy.auditID}'], admin);
  console.log(`  payments/api now has ${replicas} replicas; ApprovalRequest ${name}: ${phase} (used once; the same command again needs a new approval)`);
  console.log(`  audit file: ${gw.auditFile}`);
}
