// The demo's gateway-only scene (hack/demo-gateway-only.ts), run in namespaces of its own on the
// test run's control plane: what it prints is what it claims, a read allowed through the gateway
// next to the same read refused straight at the API server, with each token.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gatewayOnlyScene } from '../hack/demo-gateway-only.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';

const ID = randomBytes(3).toString('hex');
const NS = `e2e-demo-only-${ID}`;
const lines: string[] = [];

beforeAll(async () => {
  await installCrds();
  for (const ns of [NS, `${NS}-policy`]) await kubectlOk(['create', 'namespace', ns]);
}, 60_000);

afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, `${NS}-policy`, '--wait=false']);
});

describe('the demo: only through the gateway', () => {
  it('shows the read allowed through the gateway and refused straight at the API server', async () => {
    await gatewayOnlyScene({
      cp: { dir: inject('clusterDir'), kubeconfig: inject('kubeconfig'), kubectlPath: inject('kubectlPath') },
      namespace: NS, policyNamespace: `${NS}-policy`, gateway: `demo-only-${ID}`, print: (line) => { lines.push(line); },
    });
    const text = lines.join('\n').replaceAll('\u001b[1m', '').replaceAll('\u001b[0m', '');
    const [through = '', sameToken = '', ownToken = ''] = text.split('$ kubectl get serviceaccounts').slice(1);
    expect(text).toContain(`its RBAC bound to airlock:airlock-system:demo-only-${ID}:system:serviceaccount:${NS}:ci-bot (kubectl airlock rolebinding)`);
    expect(through).toMatch(/through the gateway[\s\S]*ci-bot/);
    expect(sameToken).toMatch(/the same token\n\s+(error: You must be logged in|.*Unauthorized)/);
    expect(ownToken).toContain(`User "system:serviceaccount:${NS}:ci-bot" cannot list resource "serviceaccounts"`);
  }, 60_000);
});
