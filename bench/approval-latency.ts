// From `kubectl approve` returning to the held request being forwarded, on the local control plane:
//   npm run bench:approvals -- [--rounds N]
// Each round: the CI identity's `kubectl scale` (through the gateway, rule in mode Wait) is held;
// an approver (own client certificate) runs the real `kubectl approve NAME`; we time from the
// plugin's exit to the scale command's exit (which includes kubectl printing its result).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { stringify } from 'yaml';
import { issueClientCertificate, pkiPaths, repoRoot, startControlPlane, writeKubeconfig } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway } from '../hack/local-gateway.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:approvals -- [--rounds N]');
const run = promisify(execFile);
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' } } });
const ROUNDS = Number(values.rounds);
const APPROVER = 'bench-approver';

const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-approval-'));
const cp = await startControlPlane({ dir, lifeline: true, removeOnStop: true });
const kubectl = async (args: readonly string[], env: Record<string, string> = { KUBECONFIG: cp.kubeconfig }): Promise<string> =>
  (await run(cp.kubectlPath, [...args], { env: { ...process.env, ...env } })).stdout;
await kubectl(['apply', '--server-side', '-f', 'crds/']);
await kubectl(['wait', '--for=condition=Established', 'crd/approvalrequests.airlock.dev']);
await kubectl(['create', 'namespace', 'bench']);
await kubectl(['create', 'deployment', 'api', '--image=registry.example/api:1', '--replicas=1', '-n', 'bench']);
await kubectl(['create', 'clusterrolebinding', 'bench-ci', '--clusterrole=cluster-admin', `--user=oidc:${CI_CLIENT.clientId}`]);
const policy = stringify({
  apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'bench', namespace: 'bench' },
  spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules: [
    { name: 'scale', match: { verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments/scale'] }, action: 'RequireApproval', approval: { approvers: { users: [APPROVER] }, mode: 'Wait', timeout: '5m' } },
  ] },
});
const apply = spawn(cp.kubectlPath, ['apply', '-f', '-'], { env: { ...process.env, KUBECONFIG: cp.kubeconfig } });
apply.stdin.end(policy);
await new Promise((resolve) => apply.once('exit', resolve));
const gw = await startLocalGateway({ cluster: { dir, kubeconfig: cp.kubeconfig, kubectlPath: cp.kubectlPath }, name: 'bench', policyNamespace: 'bench', defaultAction: 'Allow', auditLevel: 'Metadata' });
const ci = await gw.kubeconfigFor(await gw.oidc.token(CI_CLIENT.clientId), 'ci');
const pki = { ...pkiPaths(join(dir, 'pki')), dir };
const cert = await issueClientCertificate(pki, APPROVER);
await kubectl(['apply', '-f', join(repoRoot, 'config/rbac/approvalrequest_approver_role.yaml')]);
await kubectl(['create', 'rolebinding', 'bench-approver', '-n', 'airlock-system', '--clusterrole=airlock-approvalrequest-approver', `--user=${APPROVER}`]);
const approver = { KUBECONFIG: await writeKubeconfig(join(dir, 'approver.kubeconfig'), { server: cp.server, caCertFile: pki.caCert, user: APPROVER, clientCertFile: cert.cert, clientKeyFile: cert.key, namespace: 'airlock-system' }), PATH: `${join(repoRoot, 'plugin/bin')}:${process.env['PATH'] ?? ''}` };

async function pendingName(seen: ReadonlySet<string>): Promise<string> {
  for (;;) {
    const names = (await kubectl(['get', 'approvalrequests', '-n', 'airlock-system', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter((n) => n !== '' && !seen.has(n));
    if (names[0] !== undefined) return names[0];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const latencies: number[] = [];
const seen = new Set<string>();
for (let round = 0; round < ROUNDS; round++) {
  const scaled = run(cp.kubectlPath, ['scale', 'deployment', 'api', `--replicas=${String(round + 2)}`, '-n', 'bench'], { env: { ...process.env, KUBECONFIG: ci } }).then(() => performance.now());
  const name = await pendingName(seen);
  seen.add(name);
  await kubectl(['approve', name, '--reason', 'bench'], approver);
  const approved = performance.now();
  latencies.push((await scaled) - approved);
}
await gw.stop();
await cp.stop();
latencies.sort((a, b) => a - b);
const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
console.log(`From kubectl approve returning to the held kubectl scale completing, ${ROUNDS} rounds: p50 ${at(0.5).toFixed(0)} ms, max ${at(1).toFixed(0)} ms (target ≤ 1000 ms).`);
