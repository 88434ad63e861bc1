// The gateway's upstream credential rotates without a restart and without failing a request: a
// new token is written over the file (atomically, as a Secret volume update does), the old one is
// revoked by deleting the object it was bound to, and requests keep flowing throughout.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';

const NS = 'airlock-cred-e2e';
let gw: TestGateway;
let kubeconfig = '';
let firstToken = '';

async function boundToken(secret: string): Promise<string> {
  await kubectlOk(['create', 'secret', 'generic', secret, '-n', 'airlock-system', '--from-literal=purpose=binding']);
  return (await kubectlOk(['create', 'token', 'airlock-gateway-cred', '-n', 'airlock-system', '--duration=1h',
    '--bound-object-kind=Secret', `--bound-object-name=${secret}`])).trim();
}

async function installToken(token: string): Promise<void> {
  const file = join(gw.dir, 'token');
  await writeFile(`${file}.new`, token, { mode: 0o600 });
  await rename(`${file}.new`, file);
}

beforeAll(async () => {
  await installCrds();
  await kubectl(['create', 'namespace', NS]);
  await kubectlOk(['create', 'rolebinding', 'ci-view', '--clusterrole=view', `--user=oidc:${CI_CLIENT.clientId}`, '-n', NS]);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'read', namespace: NS },
    spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules: [
      { name: 'read', match: { verbs: ['get', 'list'], namespaces: [NS] }, action: 'Allow' },
      { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*'] }, action: 'Allow' },
    ] },
  }) });
  gw = await startTestGateway({ name: 'cred', policyNamespace: NS });
  kubeconfig = await gw.kubeconfigFor(await gw.oidc.token(CI_CLIENT.clientId), 'ci');
  await kubectl(['delete', 'secret', 'cred-a', 'cred-b', '-n', 'airlock-system', '--ignore-not-found']);
  firstToken = await boundToken('cred-a');
  await installToken(firstToken);
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', NS, '--wait=false']);
  await kubectl(['delete', 'secret', 'cred-a', 'cred-b', '-n', 'airlock-system', '--ignore-not-found']);
});

describe('gateway: upstream credential rotation', () => {
  it('switches to a new token and keeps serving after the old one is revoked', async () => {
    const failures: string[] = [];
    let requests = 0;
    const flag = { running: true };
    const loop = (async () => {
      while (flag.running) {
        const result = await kubectl(['get', 'configmaps', '-n', NS, '-o', 'name'], { kubeconfig });
        requests += 1;
        if (result.code !== 0) failures.push(result.stderr.trim());
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    await installToken(await boundToken('cred-b'));
    await new Promise((r) => setTimeout(r, 1500));
    // Revoke the first token by deleting the object it is bound to. The API server's token cache
    // may accept it for a few more seconds; wait until it really is dead, then keep going a while.
    await kubectlOk(['delete', 'secret', 'cred-a', '-n', 'airlock-system']);
    const reviewFirst = async (): Promise<boolean> => {
      const review = JSON.parse(await kubectlOk(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: firstToken },
      }) })) as { status: { authenticated?: boolean } };
      return review.status.authenticated ?? false;
    };
    await expect.poll(reviewFirst, { timeout: 30_000, interval: 500 }).toBe(false);
    const afterRevocation = requests;
    await new Promise((r) => setTimeout(r, 2000));
    flag.running = false;
    await loop;
    expect(requests - afterRevocation).toBeGreaterThan(3);
    expect(failures).toEqual([]);
  });
});
