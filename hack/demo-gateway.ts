// The gateway part of the demo: a CI identity (an OIDC token from a real issuer, GitHub Actions
// style) goes through an Airlock gateway on the local control plane: allowed, denied with the
// policy's message, held for a human approval given with `kubectl approve`, an exec recorded and
// replayed, a ServiceAccount that works only through a GatewayOnly gateway, and audited in a hash
// chain that verifies with the recordings. Rerunnable: it first
// removes what an earlier run left (its configmap, deployment, pod, ApprovalRequests, recordings).
//   npm run demo:gateway [-- --keep]     (--keep leaves the gateway running until Ctrl-C)
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { attachControlPlane, repoRoot } from './controlplane/index.ts';
import { CI_CLIENT, startLocalGateway } from './local-gateway.ts';
import { approvalScene, SCALE_NEEDS_APPROVAL } from './demo-approvals.ts';
import { EXEC_RECORDED, sessionScene } from './demo-sessions.ts';
import { gatewayOnlyScene } from './demo-gateway-only.ts';

const run = promisify(execFile);
const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const bold = (s: string): string => `\u001b[1m${s}\u001b[0m`;

const cp = await attachControlPlane(process.env['AIRLOCK_CLUSTER_DIR'] ?? join(repoRoot, '.airlock', 'cluster'));
if (cp === undefined) {
  console.error('demo-gateway: no control plane is running; start one with "hack/cluster up"');
  process.exit(1);
}
const admin = async (args: string[], input?: string): Promise<string> => {
  const child = run(cp.kubectlPath, args, { env: { ...process.env, KUBECONFIG: cp.kubeconfig } });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
};
const user = `oidc:${CI_CLIENT.clientId}`;
const demoDir = process.env['AIRLOCK_DEMO_DIR'] ?? join(repoRoot, '.airlock', 'demo');
const recordingDir = join(demoDir, 'recordings');

// What an earlier run left behind would change this run's story (an existing configmap, a
// deployment already at 0 replicas, an ApprovalRequest already decided): start from scratch.
await admin(['delete', '-n', 'payments', 'configmap/release', 'deployment/api', '--ignore-not-found', '--wait']).catch(() => '');
await admin(['delete', '-n', 'payments', 'pod/shell', '--ignore-not-found', '--grace-period=0', '--force']).catch(() => '');
await admin(['delete', 'approvalrequests', '-n', 'airlock-system', '-l', 'airlock.dev/gateway=demo', '--ignore-not-found', '--wait']).catch(() => '');
await rm(recordingDir, { recursive: true, force: true });
await mkdir(recordingDir, { recursive: true });

await admin(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'List', items: [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'airlock-demo' } },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'ci-edit', namespace: 'payments' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'ci-demo-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }] },
  { apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'payments-ci', namespace: 'airlock-demo' }, spec: {
    subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
    rules: [
      SCALE_NEEDS_APPROVAL,
      EXEC_RECORDED,
      { name: 'no-namespace-deletes', match: { verbs: ['delete', 'deletecollection'], resources: ['namespaces'] }, action: 'Deny', message: 'CI may not delete namespaces; ask #platform' },
      { name: 'deploy-payments', match: { apiGroups: ['', 'apps'], namespaces: ['payments'] }, action: 'Allow' },
      { name: 'whoami', match: { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] }, action: 'Allow' },
      { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version'] }, action: 'Allow' },
    ],
  } },
] }));
const gw = await startLocalGateway({ cluster: cp, name: 'demo', policyNamespace: 'airlock-demo', recordingDir });
const kubeconfig = await gw.kubeconfigFor(await gw.oidc.token(CI_CLIENT.clientId), 'github-actions');
console.log(`\n${bold('A CI job of acme/payments, with an OIDC token, through the gateway at')} ${gw.url}`);
console.log('  (the cluster-admin binding for this identity shows that the gateway\'s policy still applies on top of RBAC)\n');

async function step(args: string[]): Promise<void> {
  console.log(bold(`$ kubectl ${args.join(' ')}`));
  const result = await run(cp?.kubectlPath ?? 'kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } }).then(
    (r) => r.stdout, (e: unknown) => (e as { stderr: string }).stderr);
  console.log(result.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
}
await step(['create', 'configmap', 'release', '--from-literal=version=1.2.3', '-n', 'payments']);
await step(['get', 'configmaps', '-n', 'payments']);
await step(['delete', 'namespace', 'payments']);
await step(['get', 'secrets', '-n', 'kube-system']);
await step(['auth', 'whoami']);
await approvalScene({ cp, gw, ci: kubeconfig, demoDir });
await sessionScene({ cp, gw, ci: kubeconfig });
// A second gateway, in mode GatewayOnly: a direct request refused next to the same one allowed through it.
await gatewayOnlyScene({ cp, namespace: 'payments', policyNamespace: 'airlock-demo', gateway: 'demo-only', print: (line) => { console.log(line); } });

console.log(`\n${bold('The audit trail')} (${gw.auditFile}), last records:`);
type Entry = { seq?: number; stage?: string; verb?: string; requestURI?: string; decision?: { action: string; rule?: string }; responseStatus?: { code: number } };
// The last six request records (checkpoints, written on a timer, are left out: they would make
// two runs of the demo print different lines).
const records = (await readFile(gw.auditFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Entry).filter((r) => r.verb !== undefined);
for (const r of records.slice(-6)) {
  console.log(`  #${r.seq ?? '?'} ${r.stage ?? ''} ${r.verb} ${r.requestURI ?? ''} → ${r.decision?.action ?? '-'}${r.decision?.rule === undefined ? '' : ` (${r.decision.rule})`} ${r.responseStatus?.code ?? ''}`);
}

if (values.keep) {
  console.log(`\nThe gateway keeps running (Ctrl-C stops it). As the CI job, through it:\n  KUBECONFIG=${kubeconfig} ${cp.kubectlPath} get configmaps -n payments`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void gw.stop().then(() => process.exit(0)); });
} else {
  await gw.stop();
  console.log('\nGateway stopped (`npm run demo:gateway -- --keep` runs the demo again and keeps its gateway up).');
}
