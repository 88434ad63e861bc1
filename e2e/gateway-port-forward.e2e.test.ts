// kubectl port-forward through the gateway, over WebSocket (the default since kubectl 1.31) and
// over SPDY: the upgrade is decided like any request (create pods/portforward) and then relayed.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';
import { roundTripThroughPortForward } from './support/port-forward.ts';

const NS = 'airlock-pf-e2e';
let gw: TestGateway;
let kubeconfig = '';

beforeAll(async () => {
  await installCrds();
  await kubectl(['create', 'namespace', NS]);
  await kubectlOk(['create', 'rolebinding', 'ci-edit', '--clusterrole=edit', `--user=oidc:${CI_CLIENT.clientId}`, '-n', NS]);
  const subjects = [{ claim: { name: 'repository', value: 'acme/payments' } }];
  await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'pf-base', namespace: NS }, spec: { subjects, rules: [
      { name: 'read-pods', match: { verbs: ['get', 'list'], resources: ['pods'], namespaces: [NS] }, action: 'Allow' },
      { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*'] }, action: 'Allow' },
    ] } },
    { apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'pf', namespace: NS }, spec: { subjects, rules: [
      { name: 'port-forward', match: { verbs: ['create'], resources: ['pods/portforward'], namespaces: [NS] }, action: 'Allow' },
    ] } },
  ] }) });
  await kubectlOk(['run', 'echo', '--image=busybox', '--restart=Never', '-n', NS]);
  await kubectlOk(['wait', '--for=condition=Ready', 'pod/echo', '-n', NS, '--timeout=60s']);
  gw = await startTestGateway({ name: 'pf', policyNamespace: NS });
  kubeconfig = await gw.kubeconfigFor(await gw.oidc.token(CI_CLIENT.clientId), 'ci');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
});

describe('gateway: port-forward', () => {
  it.each([
    ['WebSocket', {}],
    ['SPDY', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ])('carries bytes both ways over %s', async (_name, env) => {
    const answer = await roundTripThroughPortForward({ path: inject('kubectlPath'), kubeconfig, env }, { namespace: NS, pod: 'echo', port: 8080 }, `hello-${_name}`);
    expect(answer).toBe(`hello-${_name}`);
  });

  it('audits each port-forward: who, pod, ports, bytes each way and duration (content is not recorded)', async () => {
    interface Forward {
      stage?: string; caller?: { username: string }; objectRef?: { name?: string; subresource?: string };
      session?: { ports?: string[]; bytesIn: number; bytesOut: number; durationMs: number; recording?: unknown };
    }
    const forwards = async (): Promise<Forward[]> => (await readFile(gw.auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Forward)
      .filter((r) => r.stage === 'ResponseComplete' && r.objectRef?.subresource === 'portforward');
    await expect.poll(async () => (await forwards()).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    for (const record of (await forwards()).slice(0, 2)) {
      expect(record.caller?.username).toBe(`oidc:${CI_CLIENT.clientId}`);
      expect(record.objectRef?.name).toBe('echo');
      expect(record.session?.ports).toEqual(['8080']);
      expect(record.session?.bytesIn).toBeGreaterThan(0);
      expect(record.session?.bytesOut).toBeGreaterThan(0);
      expect(record.session?.durationMs).toBeGreaterThanOrEqual(0);
      expect(record.session?.recording).toBeUndefined();
    }
  });

  it('is refused where the policy does not allow it', async () => {
    await kubectlOk(['delete', 'accesspolicy', 'pf', '-n', NS]);
    // The policy change is watched; give it a moment, then the upgrade itself must be refused.
    await new Promise((r) => setTimeout(r, 1000));
    await expect(roundTripThroughPortForward({ path: inject('kubectlPath'), kubeconfig }, { namespace: NS, pod: 'echo', port: 8080 }, 'x'))
      .rejects.toThrow(/no policy rule allows this request/);
  });
});
