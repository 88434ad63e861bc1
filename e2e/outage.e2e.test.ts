// An API server that goes away and comes back, on a control plane of this file's own (the shared
// one keeps serving the other tests): callers get a `503` Status while it is down, never a `401`
// that would make them drop good credentials; requests succeed again within seconds after it is
// back, and a policy changed after the outage is enforced (the gateway's watch reconnected).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { controlComponent, startControlPlane, type ControlPlane } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway, type LocalGateway } from '../hack/local-gateway.ts';
import { kubectlOk } from './support/kubectl.ts';

const NS = 'outage';
const POLICY_NS = 'outage-policy';
let cp: ControlPlane;
let gw: LocalGateway;
let ciToken = '';
let saToken = '';

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

const admin = (args: string[], input?: string): Promise<string> => kubectlOk(args, { kubeconfig: cp.kubeconfig, ...(input === undefined ? {} : { input }) });

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
  gw = await startLocalGateway({ cluster: { dir: cp.dir, kubeconfig: cp.kubeconfig, kubectlPath: inject('kubectlPath') }, name: 'outage', policyNamespace: POLICY_NS });
  ciToken = await gw.oidc.token(CI_CLIENT.clientId);
  // Never used before the outage: not in the gateway's TokenReview cache.
  saToken = (await admin(['create', 'token', 'bot', '-n', NS])).trim();
}, 300_000);

afterAll(async () => {
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
