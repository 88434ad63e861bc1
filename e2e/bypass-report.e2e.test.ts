// `kubectl airlock bypass` on the real API server, through kubectl's plugin discovery: paths
// around a gateway are planted (an automounted ServiceAccount, a pod that turns automount back on,
// a legacy token Secret, a RoleBinding under a governed identity's own name, a gateway credential
// that may read Secrets), the report names exactly those and nothing else (a clean ServiceAccount,
// and a ServiceAccount of a policy the gateway does not select, are not reported), and each path
// leaves the report once its printed fix is applied.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildGatewayClusterRole, buildGatewayClusterRoleBinding } from '../operator/resources/gateway-rbac.ts';
import { gatewayServiceAccountName } from '../core/gateway-names.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster, type KubectlResult } from './support/kubectl.ts';

const ID = randomBytes(3).toString('hex');
const GW_NS = `e2e-report-${ID}`;
const APP_NS = `${GW_NS}-app`;
const GATEWAY = 'ci';
const GATEWAY_SA = `system:serviceaccount:${GW_NS}:${gatewayServiceAccountName({ namespace: GW_NS, name: GATEWAY })}`;
const BIN_DIR = fileURLToPath(new URL('../plugin/bin', import.meta.url));
const LABEL = `airlock-e2e-report=${ID}`;
let operator: ChildProcess | undefined;

async function noBypass(): Promise<string> {
  const status = JSON.parse(await kubectlOk(['get', 'accessgateway', GATEWAY, '-n', GW_NS, '-o', 'json'])) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
  const c = status.status?.conditions?.find((x) => x.type === 'NoBypass');
  return c === undefined ? '' : `${c.status} ${c.reason}: ${c.message}`;
}

function bypass(): Promise<KubectlResult> {
  return kubectl(['airlock', 'bypass', GATEWAY, '-n', GW_NS], { env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
}

/** The findings as "Kind subject" lines, in the order printed. */
function findings(result: KubectlResult): string[] {
  return result.stdout.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().replace(/\s+/g, ' '));
}

const sa = (name: string): string => `system:serviceaccount:${APP_NS}:${name}`;

beforeAll(async () => {
  await installCrds();
  for (const ns of [GW_NS, APP_NS]) await kubectlOk(['create', 'namespace', ns]);
  const identity = { namespace: GW_NS, name: GATEWAY };
  const clusterRole = buildGatewayClusterRole(identity) as { metadata: { labels: Record<string, string> } };
  const clusterRoleBinding = buildGatewayClusterRoleBinding(identity) as { metadata: { labels: Record<string, string> } };
  for (const o of [clusterRole, clusterRoleBinding]) o.metadata.labels['airlock-e2e-report'] = ID;
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: gatewayServiceAccountName(identity), namespace: GW_NS } },
    clusterRole, clusterRoleBinding,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'clean', namespace: APP_NS }, automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'planted', namespace: APP_NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'unselected', namespace: APP_NS } },
    // Planted: a legacy token Secret (the token controller fills it), a binding under the own name.
    { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'planted-token', namespace: APP_NS, annotations: { 'kubernetes.io/service-account.name': 'planted' } } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'planted-view', namespace: APP_NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'planted', namespace: APP_NS }] },
    // Planted: a pod that turns automount back on for the clean account.
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'runner', namespace: APP_NS }, spec: { serviceAccountName: 'clean', automountServiceAccountToken: true, containers: [{ name: 'c', image: 'busybox' }] } },
    // Planted: the gateway credential may read Secrets.
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `e2e-report-${ID}-gateway-secrets`, labels: { 'airlock-e2e-report': ID } }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `e2e-report-${ID}-secrets` }, subjects: [{ kind: 'ServiceAccount', name: gatewayServiceAccountName(identity), namespace: GW_NS }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `e2e-report-${ID}-secrets`, labels: { 'airlock-e2e-report': ID } }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
  ] }) });
  const rules = [{ name: 'read', match: { verbs: ['get', 'list'], resources: ['configmaps'], namespaces: [APP_NS] }, action: 'Allow' }];
  await kubectlOk(['apply', '-f', '-'], { input: [
    { apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', metadata: { name: GATEWAY, namespace: GW_NS }, spec: {
      identity: { forwardAs: 'GatewayOnly' }, policySelector: { matchLabels: { 'airlock.dev/gateway': GATEWAY } },
      authentication: { serviceAccountTokens: { audiences: [`airlock-${ID}`] } },
    } },
    { apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'ci', namespace: GW_NS, labels: { 'airlock.dev/gateway': GATEWAY } }, spec: {
      subjects: [{ serviceAccount: { namespace: APP_NS, name: 'clean' } }, { serviceAccount: { namespace: APP_NS, name: 'planted' } }], rules,
    } },
    { apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'elsewhere', namespace: GW_NS, labels: { 'airlock.dev/gateway': 'another' } }, spec: {
      subjects: [{ serviceAccount: { namespace: APP_NS, name: 'unselected' } }], rules,
    } },
  ].map((d) => stringify(d)).join('---\n') });
  // The token controller fills the legacy Secret asynchronously; the report reads only its metadata.
  await kubectlOk(['wait', '--for=jsonpath={.data.token}', 'secret/planted-token', '-n', APP_NS, '--timeout=30s']);
}, 120_000);

afterAll(async () => {
  operator?.kill('SIGTERM');
  await kubectl(['delete', 'namespace', GW_NS, APP_NS, '--wait=false']);
  await kubectl(['delete', 'clusterrolebinding,clusterrole', '-l', LABEL]);
});

describe('kubectl airlock bypass', () => {
  it('names exactly the planted paths, with a fix each, and exits 3', async () => {
    const result = await bypass();
    expect(result.code, result.stderr).toBe(3);
    expect(findings(result)).toEqual([
      `AutomountedToken ${sa('clean')}`,
      `AutomountedToken ${sa('planted')}`,
      `LegacyTokenSecret ${sa('planted')}`,
      `DirectRbac ${sa('planted')}`,
      `GatewayCredential ${GATEWAY_SA}`,
    ]);
    expect(result.stdout).toContain(`${GW_NS}/${GATEWAY}: 5 path(s) around the gateway`);
    expect(result.stdout).toContain(`pod ${APP_NS}/runner mounts an API server token`);
    expect(result.stdout).toContain(`fix: kubectl patch serviceaccount planted -n ${APP_NS} -p '{"automountServiceAccountToken":false}'; give its pods a projected token with audience airlock-${ID}`);
    expect(result.stdout).toContain(`fix: kubectl delete secret planted-token -n ${APP_NS}`);
    expect(result.stdout).toContain(`kubectl airlock rolebinding --serviceaccount ${APP_NS}:planted --gateway ${GW_NS}/${GATEWAY}`);
    expect(result.stdout).toContain('may get secrets (cluster-wide)');
    expect(result.stdout).not.toContain('unselected');
    // Token Secrets are read as metadata: no token value is ever printed.
    const token = await kubectlOk(['get', 'secret', 'planted-token', '-n', APP_NS, '-o', 'jsonpath={.data.token}']);
    expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('the operator says so too: NoBypass False with the count and paths, and a Warning Event', async () => {
    operator = spawn(process.execPath, ['operator/main.ts'], {
      env: { ...process.env, KUBECONFIG: testCluster().kubeconfig, AIRLOCK_LEADER_ELECTION: 'false', AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0', AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0', AIRLOCK_BYPASS_CHECK_INTERVAL: '2s' },
      stdio: 'ignore',
    });
    await expect.poll(noBypass, { timeout: 60_000, interval: 500 }).toMatch(/^False BypassFound: 5 path\(s\) around the gateway: AutomountedToken /);
    expect(await noBypass()).toContain(`\`kubectl airlock bypass ${GATEWAY} -n ${GW_NS}\` lists each with its fix.`);
    await expect.poll(async () => kubectlOk(['get', 'events', '-n', GW_NS, '--field-selector', `involvedObject.kind=AccessGateway,involvedObject.name=${GATEWAY},reason=BypassFound`, '-o', 'jsonpath={.items[*].type}']), { timeout: 30_000 }).toBe('Warning');
  });

  it('drops each path once its fix is applied, until none is left (exit 0)', async () => {
    const steps: [string[], string][] = [
      [['patch', 'serviceaccount', 'planted', '-n', APP_NS, '-p', '{"automountServiceAccountToken":false}'], `AutomountedToken ${sa('planted')}`],
      [['delete', 'pod', 'runner', '-n', APP_NS, '--grace-period=0', '--force', '--wait=true'], `AutomountedToken ${sa('clean')}`],
      [['delete', 'secret', 'planted-token', '-n', APP_NS], `LegacyTokenSecret ${sa('planted')}`],
      [['delete', 'rolebinding', 'planted-view', '-n', APP_NS], `DirectRbac ${sa('planted')}`],
      [['delete', 'clusterrolebinding', `e2e-report-${ID}-gateway-secrets`], `GatewayCredential ${GATEWAY_SA}`],
    ];
    let left = findings(await bypass());
    for (const [fix, gone] of steps) {
      expect(left).toContain(gone);
      await kubectlOk(fix);
      await expect.poll(async () => findings(await bypass()), { timeout: 20_000, interval: 500 }).not.toContain(gone);
      const result = await bypass();
      const now = findings(result);
      expect(now, `${result.stdout}${result.stderr}`).toEqual(left.filter((f) => f !== gone));
      left = now;
    }
    const clean = await bypass();
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe(`${GW_NS}/${GATEWAY}: no path around the gateway found\n`);
    // The operator follows within its interval.
    await expect.poll(noBypass, { timeout: 30_000, interval: 500 }).toBe('True NoneFound: No path around the gateway found for the subjects of its AccessPolicies.');
  });
});
