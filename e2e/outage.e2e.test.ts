// An API server that goes away and comes back, on a control plane of this file's own (the shared
// one keeps serving the other tests): callers get a `503` Status while it is down, never a `401`
// that would make them drop good credentials; requests succeed again within seconds after it is
// back, and a policy changed after the outage is enforced (the gateway's watch reconnected). The
// operator (`node operator/main.ts`) goes through an outage in the middle of its work: it logs a
// bounded number of lines meanwhile, finishes what the outage interrupted, and a policy created
// after the outage has its status within seconds.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { controlComponent, startControlPlane, type ControlPlane } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway, type LocalGateway } from '../hack/local-gateway.ts';
import { kubectlOk } from './support/kubectl.ts';

const NS = 'outage';
const POLICY_NS = 'outage-policy';
let cp: ControlPlane;
let gw: LocalGateway;
let ciToken = '';
let saToken = '';
let operator: ChildProcess | undefined;
/** The operator's log lines, with when each arrived. */
const operatorLog: { at: number; line: string }[] = [];

function get(token: string, path = `/api/v1/namespaces/${NS}/configmaps/settings`): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { ca: readFileSync(gw.caFile), headers: { authorization: `Bearer ${token}` }, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
    });
    req.on('error', reject);
    req.end();
  });
}

function adminClient(): CustomObjectsApi {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  return kc.makeApiClient(CustomObjectsApi);
}

const admin = (args: string[], input?: string): Promise<string> => kubectlOk(args, { kubeconfig: cp.kubeconfig, ...(input === undefined ? {} : { input }) });

/** A pino line's level (0 for anything else on the operator's output). */
function levelOf(line: string): number {
  try { return (JSON.parse(line) as { level?: number }).level ?? 0; } catch { return 0; }
}

/** Names of the policies whose status the operator has written for their current generation. */
async function statuses(): Promise<Set<string>> {
  const out = await kubectlOk(['get', 'accesspolicies', '-n', POLICY_NS, '-o', 'json'], { kubeconfig: cp.kubeconfig }).catch(() => '{"items":[]}');
  const items = (JSON.parse(out) as { items: { metadata: { name: string; generation: number }; status?: { observedGeneration?: number } }[] }).items;
  return new Set(items.filter((p) => p.status?.observedGeneration === p.metadata.generation).map((p) => p.metadata.name));
}

function policy(rules: unknown[]): string {
  return stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'callers', namespace: POLICY_NS },
    spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }, { serviceAccount: { namespace: NS, name: 'bot' } }], rules },
  });
}

beforeAll(async () => {
  cp = await startControlPlane({ dir: await mkdtemp(join(tmpdir(), 'airlock-outage-')), lifeline: true, removeOnStop: true });
  await admin(['apply', '--server-side', '-f', 'crds/']);
  await admin(['wait', '--for=condition=Established', '--timeout=60s', 'crd/accesspolicies.airlock.dev']);
  for (const ns of [NS, POLICY_NS]) await admin(['create', 'namespace', ns]);
  await admin(['create', 'serviceaccount', 'bot', '-n', NS]);
  await admin(['create', 'rolebinding', 'callers', '-n', NS, '--clusterrole=edit', `--user=oidc:${CI_CLIENT.clientId}`, `--serviceaccount=${NS}:bot`]);
  await admin(['create', 'configmap', 'settings', '-n', NS, '--from-literal=region=eu-west-1']);
  await admin(['apply', '-f', '-'], policy([{ name: 'app', match: { namespaces: [NS] }, action: 'Allow' }]));
  operator = spawn(process.execPath, ['operator/main.ts'], {
    env: { ...process.env, KUBECONFIG: cp.kubeconfig, AIRLOCK_LEADER_ELECTION: 'false', AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0', AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [operator.stdout, operator.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) operatorLog.push({ at: Date.now(), line });
    });
  }
  gw = await startLocalGateway({ cluster: { dir: cp.dir, kubeconfig: cp.kubeconfig, kubectlPath: inject('kubectlPath') }, name: 'outage', policyNamespace: POLICY_NS });
  ciToken = await gw.oidc.token(CI_CLIENT.clientId);
  // Never used before the outage: not in the gateway's TokenReview cache.
  saToken = (await admin(['create', 'token', 'bot', '-n', NS])).trim();
}, 300_000);

afterAll(async () => {
  if (operator !== undefined && operator.exitCode === null) {
    const exited = new Promise((resolve) => operator?.once('exit', resolve));
    operator.kill('SIGTERM');
    await exited;
  }
  await gw.stop();
  await cp.stop();
});

describe('an API server outage', () => {
  it('answers 503 Status to every caller while the API server is down, then serves again within seconds', async () => {
    expect((await get(ciToken)).status).toBe(200);
    await controlComponent(cp.dir, 'stop', 'kube-apiserver');
    for (const [who, token] of [['an OIDC caller', ciToken], ['a ServiceAccount whose token the gateway has not seen', saToken]] as const) {
      const answer = await get(token);
      expect(answer.status, `${who}: ${answer.body}`).toBe(503);
      expect(JSON.parse(answer.body), who).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable' });
    }
    await controlComponent(cp.dir, 'start', 'kube-apiserver');
    const back = Date.now();
    await expect.poll(async () => (await get(ciToken)).status, { timeout: 30_000, interval: 100 }).toBe(200);
    process.stderr.write(`[outage] first success ${Date.now() - back} ms after the API server was ready\n`);
    await expect.poll(async () => (await get(saToken)).status, { timeout: 30_000, interval: 200 }).toBe(200);
  });

  it('enforces a policy changed after the outage (the gateway watches again)', async () => {
    await admin(['apply', '-f', '-'], policy([
      { name: 'frozen', match: { resources: ['configmaps'], namespaces: [NS] }, action: 'Deny', message: 'frozen after the outage' },
      { name: 'app', match: { namespaces: [NS] }, action: 'Allow' },
    ]));
    await expect.poll(async () => (await get(ciToken)).body, { timeout: 30_000, interval: 200 }).toContain('frozen after the outage');
  });

  it('the operator logs a bounded number of lines through an outage in the middle of its work, then catches up within seconds', async () => {
    const fleet = Array.from({ length: 300 }, (_, i) => ({
      apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: `fleet-${i}`, namespace: POLICY_NS },
      spec: { subjects: [{ group: { name: `team-${i}` } }], rules: [{ name: 'read', match: { verbs: ['get'], resources: ['configmaps'], namespaces: [NS] }, action: 'Allow' }] },
    }));
    // The outage must find the operator with the fleet's statuses still to write, however fast it is:
    // it is paused while the fleet is created (the watch events wait in its socket), and resumed
    // once the API server is gone.
    const paused = operator?.kill('SIGSTOP');
    expect(paused).toBe(true);
    await admin(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: fleet }));
    const down = Date.now();
    await controlComponent(cp.dir, 'stop', 'kube-apiserver');
    operator?.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await controlComponent(cp.dir, 'start', 'kube-apiserver');
    const ready = Date.now();
    const during = operatorLog.filter((l) => l.at >= down && l.at <= ready).map((l) => l.line);
    process.stderr.write(`[outage] operator: ${during.length} log lines in ${ready - down} ms of outage\n`);
    expect(during.filter((l) => l.includes('reconcile failed')).length, 'the outage interrupted the operator\'s work').toBeGreaterThan(0);
    expect(during.length, during.join('\n')).toBeLessThanOrEqual(20);
    expect(during.filter((l) => levelOf(l) >= 50).length).toBeLessThanOrEqual(4);

    // Created as soon as the API server takes it (it may answer 429 while its storage warms up).
    const api = { group: 'airlock.dev', version: 'v1alpha1', plural: 'accesspolicies', namespace: POLICY_NS };
    const custom = adminClient();
    await expect.poll(() => custom.createNamespacedCustomObject({ ...api, body: { ...fleet[0], metadata: { name: 'after-outage', namespace: POLICY_NS } } }).then(() => true, () => false), { timeout: 10_000, interval: 50 }).toBe(true);
    const created = Date.now();
    await expect.poll(async () => ((await custom.getNamespacedCustomObject({ ...api, name: 'after-outage' })) as { status?: { observedGeneration?: number } }).status?.observedGeneration, { timeout: 10_000, interval: 50 }).toBe(1);
    const caughtUp = Date.now() - ready;
    process.stderr.write(`[outage] operator: a policy created ${created - ready} ms after the API server was ready has its status ${caughtUp} ms after it was ready\n`);
    expect(caughtUp).toBeLessThan(5_000);
    await expect.poll(async () => (await statuses()).size, { timeout: 10_000, interval: 200 }).toBe(fleet.length + 2);
  });

  it('keeps the control plane when a component dies: the supervisor starts it again', async () => {
    const state = JSON.parse(readFileSync(join(cp.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
    const before = state.pids['kube-scheduler'] ?? 0;
    process.kill(before, 'SIGKILL');
    await expect.poll(() => (JSON.parse(readFileSync(join(cp.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> }).pids['kube-scheduler'], { timeout: 30_000, interval: 200 })
      .not.toBe(before);
    expect((await get(ciToken, '/version')).status).not.toBe(0);
    expect(await admin(['get', 'namespace', NS, '-o', 'name'])).toContain(NS);
  });
});
