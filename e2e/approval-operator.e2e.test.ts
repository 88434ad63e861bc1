// The operator's ApprovalRequest controller on the real API server, with the operator as a child
// process: phase and grant from decisions, Events a person reads in `kubectl describe`, expiry,
// clean-up after the retention period, the Slack-compatible notification and the metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';

const NS = `e2e-approval-op-${randomBytes(3).toString('hex')}`;
let operator: ChildProcess;
const output: string[] = [];
let hook: Server;
const notifications: { text: string }[] = [];

const iso = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

function approvalRequest(name: string, expiresInMs: number): string {
  return JSON.stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'ApprovalRequest', metadata: { name, namespace: NS },
    spec: {
      requester: { caller: { username: 'oidc:ci', groups: ['system:authenticated'] } },
      request: { verb: 'delete', apiGroup: '', resource: 'namespaces', namespace: '', name: 'payments', summary: 'delete namespace payments', bodyDigest: `sha256:${'0'.repeat(64)}`, fingerprint: `sha256:${'1'.repeat(64)}` },
      policy: { namespace: NS, name: 'p', rule: 'r' },
      approvers: { users: ['alice@example.com'] },
      gateway: 'ci-gateway', expiresAt: iso(expiresInMs), grantTTL: '10m',
    },
  });
}

async function status(name: string): Promise<{ phase?: string; grant?: { notBefore: string; notAfter: string } }> {
  const out = await kubectl(['get', 'approvalrequest', name, '-n', NS, '-o', 'jsonpath={.status}']);
  return out.code === 0 && out.stdout !== '' ? JSON.parse(out.stdout) as { phase?: string } : {};
}

async function events(name: string): Promise<string> {
  return kubectlOk(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
}

/** Returns the decision's `at` (seconds, as reviewers' tools write it). */
async function decide(name: string, decision: 'Approve' | 'Deny', reason: string): Promise<string> {
  const at = iso(0);
  await kubectlOk(['patch', 'approvalrequest', name, '-n', NS, '--subresource=status', '--type=merge',
    '-p', JSON.stringify({ status: { decisions: [{ decision, by: 'alice@example.com', reason, at }] } })]);
  return at;
}

beforeAll(async () => {
  await installCrds();
  await kubectlOk(['create', 'namespace', NS]);
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { notifications.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string }); res.writeHead(200).end('ok'); });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  operator = spawn(process.execPath, ['operator/main.ts'], {
    env: {
      ...process.env, KUBECONFIG: testCluster().kubeconfig, AIRLOCK_LEADER_ELECTION: 'false',
      AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0', AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0',
      AIRLOCK_APPROVAL_RETENTION: '25s', AIRLOCK_APPROVAL_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/slack`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  operator.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  operator.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
}, 60_000);

afterAll(async () => {
  if (operator.exitCode === null) {
    const exited = new Promise((resolve) => operator.once('exit', resolve));
    operator.kill('SIGTERM');
    await exited;
  }
  hook.closeAllConnections();
  await new Promise((resolve) => hook.close(resolve));
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
});

describe('operator: ApprovalRequest controller', () => {
  it('moves a request to Pending, tells people, then Approved with a grant window from the decision', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: approvalRequest('scale-prod', 10 * 60_000) });
    await expect.poll(async () => (await status('scale-prod')).phase, { timeout: 30_000 }).toBe('Pending');
    await expect.poll(() => events('scale-prod')).toContain('Requested: oidc:ci: delete namespace payments; approve with: kubectl approve scale-prod -n');
    await expect.poll(() => notifications.map((n) => n.text).join('\n')).toContain('Airlock approval needed in');
    const decidedAt = Date.parse(await decide('scale-prod', 'Approve', 'planned'));
    await expect.poll(async () => (await status('scale-prod')).phase, { timeout: 30_000 }).toBe('Approved');
    // The window starts when the operator saw the approval (its clock, not the decision's `at`)
    // and ends grantTTL after the decision at the latest.
    const grant = (await status('scale-prod')).grant;
    const [notBefore, notAfter] = [Date.parse(grant?.notBefore ?? ''), Date.parse(grant?.notAfter ?? '')];
    expect(notBefore).toBeGreaterThanOrEqual(decidedAt);
    expect(notAfter).toBe(Math.min(decidedAt, notBefore) + 10 * 60_000);
    await expect.poll(() => events('scale-prod')).toContain('Approved: approved by alice@example.com: planned (oidc:ci: delete namespace payments)');
  });

  it('denies on any deny, expires a request nobody decided, and removes finished requests after the retention period', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: approvalRequest('denied-one', 10 * 60_000) });
    await kubectlOk(['apply', '-f', '-'], { input: approvalRequest('forgotten', 3_000) });
    await expect.poll(async () => (await status('denied-one')).phase, { timeout: 30_000 }).toBe('Pending');
    await decide('denied-one', 'Deny', 'freeze');
    await expect.poll(async () => (await status('denied-one')).phase, { timeout: 30_000 }).toBe('Denied');
    await expect.poll(() => events('denied-one')).toContain('Denied: denied by alice@example.com: freeze');
    await expect.poll(async () => (await status('forgotten')).phase, { timeout: 30_000 }).toBe('Expired');
    await expect.poll(() => events('forgotten')).toContain('Expired: no decision in time');
    // Retention 25 s from creation: both are gone afterwards.
    await expect.poll(async () => (await kubectl(['get', 'approvalrequest', 'denied-one', 'forgotten', '-n', NS, '--ignore-not-found', '-o', 'name'])).stdout.trim(), { timeout: 60_000, interval: 2000 }).toBe('');
  }, 120_000);

  it('exports the pending count and the time to decision', async () => {
    const line = output.join('').split('\n').find((l) => l.includes('"operator started"'));
    const port = (JSON.parse(line ?? '{}') as { metrics?: number }).metrics;
    const text = await (await fetch(`http://127.0.0.1:${port ?? 0}/metrics`)).text();
    expect(text).toMatch(/^airlock_operator_approval_requests_pending \d+/m);
    expect(text).toMatch(/^airlock_operator_approval_decision_seconds_count [1-9]/m);
  });
});
