// Just-in-time approvals through the gateway, with real kubectl on the real API server: a CI
// identity's risky command is held (Wait) or refused with the command to approve it (Reject); a
// reviewer's decision in status lets it through once, for that exact request.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';
import { createUpstream } from '../gateway/upstream/upstream-client.ts';
import { createApprovalApi, ApprovalApiError } from '../gateway/approve/approval-api.ts';
import type { ApprovalRequestObject } from '../core/approval/approval-object.ts';
import { issueClientCertificate, pkiPaths, writeKubeconfig } from '../hack/controlplane/index.ts';

const suffix = randomBytes(3).toString('hex');
const POLICY_NS = `e2e-approval-policy-${suffix}`;
const APP_NS = `e2e-approval-app-${suffix}`;
const GATEWAY = `approvals-${suffix}`;
// The local gateway runs as airlock-gateway-<name> in airlock-system; its requests live there.
const AR_NS = 'airlock-system';
// A real person (client certificate from the cluster CA) who approves with the kubectl plugin.
const APPROVER = `e2e-flow-alice-${suffix}`;
const SECOND = `e2e-flow-bob-${suffix}`;
const PLUGINS = fileURLToPath(new URL('../plugin/bin', import.meta.url));
let approverKubeconfig: string;

let gw: TestGateway;
let ci: string;

interface HeldRequest extends ApprovalRequestObject {
  readonly spec: ApprovalRequestObject['spec'] & { readonly request: { readonly verb: string; readonly resource?: string; readonly name?: string; readonly bodyDigest: string; readonly fingerprint: string; readonly summary: string } };
}

async function approvalRequests(): Promise<HeldRequest[]> {
  const out = await kubectlOk(['get', 'approvalrequests', '-n', AR_NS, '-l', `airlock.dev/gateway=${GATEWAY}`, '-o', 'json']);
  return (JSON.parse(out) as { items: HeldRequest[] }).items;
}

async function waitForRequest(summary: RegExp, exclude: readonly string[] = []): Promise<HeldRequest> {
  let found: HeldRequest | undefined;
  await expect.poll(async () => {
    found = (await approvalRequests()).find((ar) => summary.test(ar.spec.request.summary) && !exclude.includes(ar.metadata.name ?? ''));
    return found !== undefined;
  }, { timeout: 20_000 }).toBe(true);
  if (found === undefined) throw new Error('unreachable');
  return found;
}

/** A reviewer's decision, appended through the status subresource (as `kubectl approve` does). */
async function decide(ar: ApprovalRequestObject, decision: 'Approve' | 'Deny', reason: string, by = APPROVER): Promise<void> {
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const decisions = [...(ar.status?.decisions ?? []), { decision, by, reason, at }];
  await kubectlOk(['patch', 'approvalrequest', ar.metadata.name ?? '', '-n', AR_NS, '--subresource=status', '--type=merge',
    '-p', JSON.stringify({ status: { decisions } })]);
}

/** The approver runs the real plugin through real kubectl, which finds it on PATH. */
function kubectlApprove(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(['approve', ...args], { kubeconfig: approverKubeconfig, env: { PATH: `${PLUGINS}:/usr/bin:/bin` } });
}

async function approverSetUp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-flow-'));
  const pki = { ...pkiPaths(join(inject('clusterDir'), 'pki')), dir };
  const cert = await issueClientCertificate(pki, APPROVER);
  const server = /server: (\S+)/.exec(await readFile(inject('kubeconfig'), 'utf8'))?.[1] ?? '';
  await kubectlOk(['apply', '-f', 'config/rbac/approvalrequest_approver_role.yaml']);
  await kubectlOk(['create', 'rolebinding', `flow-approver-${suffix}`, '-n', AR_NS, '--clusterrole=airlock-approvalrequest-approver', `--user=${APPROVER}`]);
  return writeKubeconfig(join(dir, 'alice.kubeconfig'), { server, caCertFile: pki.caCert, user: APPROVER, clientCertFile: cert.cert, clientKeyFile: cert.key, namespace: AR_NS });
}

beforeAll(async () => {
  await installCrds();
  for (const ns of [POLICY_NS, APP_NS]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['create', 'rolebinding', 'ci-edit', '-n', APP_NS, '--clusterrole=edit', `--user=oidc:${CI_CLIENT.clientId}`]);
  await kubectlOk(['create', 'deployment', 'api', '--image=registry.example/api:1', '--replicas=3', '-n', APP_NS]);
  await kubectlOk(['create', 'configmap', 'settings', '--from-literal=k=0', '-n', APP_NS]);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'payments-ci', namespace: POLICY_NS },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'scale-needs-approval', match: { verbs: ['patch', 'update'], apiGroups: ['apps'], resources: ['deployments/scale'], namespaces: [APP_NS] },
          action: 'RequireApproval', message: 'scaling production needs a second pair of eyes',
          approval: { approvers: { users: [APPROVER] }, mode: 'Wait', timeout: '2m' } },
        { name: 'deletes-need-two', match: { verbs: ['delete'], resources: ['configmaps'], namespaces: [APP_NS] },
          action: 'RequireApproval', approval: { approvers: { users: [APPROVER, SECOND] }, minApprovals: 2, mode: 'Wait', timeout: '10s' } },
        { name: 'config-changes-need-approval', match: { verbs: ['patch'], resources: ['configmaps'], namespaces: [APP_NS] },
          action: 'RequireApproval', approval: { approvers: { users: [APPROVER] }, mode: 'Reject', grantTTL: '5m' } },
        { name: 'deploy', match: { apiGroups: ['', 'apps'], namespaces: [APP_NS] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
      ],
    },
  }) });
  // The gateway first: it creates its namespace (airlock-system), where the approver is bound.
  gw = await startTestGateway({ name: GATEWAY, policyNamespace: POLICY_NS });
  approverKubeconfig = await approverSetUp();
  ci = await gw.kubeconfigFor(await gw.oidc.token(CI_CLIENT.clientId), 'ci');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'approvalrequests', '-n', AR_NS, '-l', `airlock.dev/gateway=${GATEWAY}`, '--wait=false']);
  await kubectl(['delete', 'namespace', POLICY_NS, APP_NS, '--wait=false']);
  await kubectl(['delete', 'rolebinding', `flow-approver-${suffix}`, '-n', AR_NS, '--ignore-not-found']);
});

describe('approvals: Wait mode', () => {
  it('holds kubectl scale until an approver runs kubectl approve, then forwards it once', async () => {
    const scaling = kubectl(['scale', 'deployment', 'api', '--replicas=0', '-n', APP_NS], { kubeconfig: ci });
    const ar = await waitForRequest(/^scale deployment .*\/api to 0 replicas$/);
    expect(ar.spec.request).toMatchObject({ verb: 'patch', resource: 'deployments', name: 'api', bodyDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown });
    expect(ar.spec.requester.caller.username).toBe(`oidc:${CI_CLIENT.clientId}`);
    expect(ar.spec.approvers.users).toEqual([APPROVER]);
    // Still held: nothing changed yet.
    expect((await kubectlOk(['get', 'deployment', 'api', '-n', APP_NS, '-o', 'jsonpath={.spec.replicas}'])).trim()).toBe('3');
    // The approver sees it in `kubectl approve` (what they may decide) and approves it by name.
    const listed = await kubectlApprove([]);
    expect(listed.stdout).toContain(ar.metadata.name ?? '-');
    expect(listed.stdout).toContain('scale deployment');
    const approved = await kubectlApprove([ar.metadata.name ?? '', '-n', AR_NS, '--reason', 'planned maintenance']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`Approving as ${APPROVER}`);
    const result = await scaling;
    expect(result.code, result.stderr).toBe(0);
    // The waiting pipeline's log says what happened while it waited: a Warning kubectl prints.
    expect(result.stderr).toMatch(new RegExp(`^Warning: approved by ${APPROVER} after \\d+s \\(ApprovalRequest ${ar.metadata.name ?? ''} in ${AR_NS}\\)$`, 'm'));
    expect((await kubectlOk(['get', 'deployment', 'api', '-n', APP_NS, '-o', 'jsonpath={.spec.replicas}'])).trim()).toBe('0');
    const used = (await approvalRequests()).find((r) => r.metadata.name === ar.metadata.name);
    expect(used?.status?.phase).toBe('Consumed');
    // The gateway's audit record of the forwarded request names the approval it used.
    const records = (await readFile(gw.auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { auditID?: string; approvalRequest?: { name: string } });
    const forwarded = records.find((r) => r.auditID === used?.status?.consumedBy?.auditID && r.approvalRequest !== undefined);
    expect(forwarded?.approvalRequest?.name).toBe(ar.metadata.name);
  });

  it('answers a deny with a 403 naming the reviewer and their reason', async () => {
    const scaling = kubectl(['scale', 'deployment', 'api', '--replicas=5', '-n', APP_NS], { kubeconfig: ci });
    const ar = await waitForRequest(/to 5 replicas$/);
    await decide(ar, 'Deny', 'not during the freeze');
    const result = await scaling;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`denied by ${APPROVER}: not during the freeze`);
    expect((await kubectlOk(['get', 'deployment', 'api', '-n', APP_NS, '-o', 'jsonpath={.spec.replicas}'])).trim()).toBe('0');
  });
});

describe('approvals: two approvers, and expiry', () => {
  it('needs both approvers when minApprovals is 2', async () => {
    await kubectlOk(['create', 'configmap', 'two-keys', '-n', APP_NS]);
    const deleting = kubectl(['delete', 'configmap', 'two-keys', '-n', APP_NS], { kubeconfig: ci });
    const ar = await waitForRequest(/^delete configmap .*two-keys$/);
    await decide(ar, 'Approve', 'one');
    // One of two: still held (the object is still there a moment later).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await kubectl(['get', 'configmap', 'two-keys', '-n', APP_NS])).code).toBe(0);
    const once = (await approvalRequests()).find((r) => r.metadata.name === ar.metadata.name) ?? ar;
    await decide(once, 'Approve', 'two', SECOND);
    const result = await deleting;
    expect(result.code, result.stderr).toBe(0);
    expect((await kubectl(['get', 'configmap', 'two-keys', '-n', APP_NS])).code).not.toBe(0);
  });

  it('refuses a held request nobody decided before its timeout', async () => {
    await kubectlOk(['create', 'configmap', 'nobody-looks', '-n', APP_NS]);
    const result = await kubectl(['delete', 'configmap', 'nobody-looks', '-n', APP_NS], { kubeconfig: ci });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/expired before it was used/);
    expect((await kubectl(['get', 'configmap', 'nobody-looks', '-n', APP_NS])).code).toBe(0);
  }, 60_000);
});

describe('approvals: Reject mode', () => {
  it('creates one ApprovalRequest for one request sent many times at once (a CI retrying), each refusal naming it', async () => {
    const value = `burst-${Date.now()}`;
    await kubectlOk(['create', 'configmap', 'retried', '-n', APP_NS]);
    const results = await Promise.all(Array.from({ length: 6 }, () =>
      kubectl(['patch', 'configmap', 'retried', '-n', APP_NS, '--type=merge', '-p', JSON.stringify({ data: { burst: value } })], { kubeconfig: ci })));
    const held = (await approvalRequests()).filter((r) => r.spec.request.name === 'retried');
    expect(held).toHaveLength(1);
    for (const result of results) {
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`kubectl approve ${held[0]?.metadata.name ?? ''} -n ${AR_NS}`);
    }
  });

  it('refuses with the command to approve; the same request then succeeds once; a changed body needs a new approval', async () => {
    const patch = (value: string): Promise<{ code: number; stderr: string }> =>
      kubectl(['patch', 'configmap', 'settings', '-n', APP_NS, '--type=merge', '-p', JSON.stringify({ data: { k: value } })], { kubeconfig: ci });
    const first = await patch('1');
    expect(first.code).not.toBe(0);
    const ar = await waitForRequest(/configmap .*settings/);
    expect(first.stderr).toContain(`kubectl approve ${ar.metadata.name ?? ''} -n ${AR_NS}`);
    // The refused request's audit record names the ApprovalRequest it created.
    const refusedRecords = (await readFile(gw.auditFile, 'utf8')).trim().split('\n')
      .map((l) => JSON.parse(l) as { approvalRequest?: { name: string }; responseStatus?: { code: number } });
    expect(refusedRecords.some((r) => r.approvalRequest?.name === ar.metadata.name && r.responseStatus?.code === 403)).toBe(true);
    // Asking again before a decision reuses the pending request.
    expect((await patch('1')).code).not.toBe(0);
    expect((await approvalRequests()).filter((r) => /configmap .*settings/.test(r.spec.request.summary))).toHaveLength(1);
    await decide(ar, 'Approve', 'ok');
    const retried = await patch('1');
    expect(retried.code, retried.stderr).toBe(0);
    expect((await kubectlOk(['get', 'configmap', 'settings', '-n', APP_NS, '-o', 'jsonpath={.data.k}'])).trim()).toBe('1');
    // Used once: the same request again needs a new approval, and so does a different body.
    const again = await patch('1');
    expect(again.code).not.toBe(0);
    const changed = await patch('2');
    expect(changed.code).not.toBe(0);
    const open = (await approvalRequests()).filter((r) => /configmap .*settings/.test(r.spec.request.summary) && r.status?.phase !== 'Consumed');
    expect(new Set(open.map((r) => r.spec.request.bodyDigest)).size).toBe(2);
  });
});

describe('approvals: one grant, two replicas', () => {
  it('lets exactly one writer consume a grant (the API server\'s optimistic concurrency)', async () => {
    const patchSettings = kubectl(['patch', 'configmap', 'settings', '-n', APP_NS, '--type=merge', '-p', '{"data":{"k":"race"}}'], { kubeconfig: ci });
    expect((await patchSettings).code).not.toBe(0);
    const ar = await waitForRequest(/configmap .*settings/, (await approvalRequests()).filter((r) => r.status?.phase === 'Consumed').map((r) => r.metadata.name ?? ''));
    await decide(ar, 'Approve', 'race test');
    // Two gateway replicas read the same approved object and both try to consume it.
    const gatewayToken = (await readFile(join(gw.dir, 'token'), 'utf8')).trim();
    const server = /server: (\S+)/.exec(await readFile(inject('kubeconfig'), 'utf8'))?.[1] ?? '';
    const upstream = createUpstream({ server, caFile: gw.caFile, tokens: { current: () => gatewayToken, loadedAt: Date.now(), close: () => undefined } });
    const api = createApprovalApi(upstream);
    const seen = await api.get(AR_NS, ar.metadata.name ?? '');
    const results = await Promise.allSettled([api.consume(seen, 'replica-a', new Date()), api.consume(seen, 'replica-b', new Date())]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected');
    expect(lost?.status === 'rejected' && lost.reason instanceof ApprovalApiError && lost.reason.status === 409).toBe(true);
    upstream.agent.destroy();
  });
});

