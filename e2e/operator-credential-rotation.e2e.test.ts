// Forced rotation and revocation of a gateway's upstream token, on the real API server with the
// operator as a child process: the rotate annotation mints a new token at once; the old one keeps
// working for the grace period (the pods read the new one meanwhile), then its anchor Secret is
// deleted and the API server refuses it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

let operator: ChildProcess | undefined;
afterEach(async () => {
  if (operator === undefined || operator.exitCode !== null) return;
  const exited = new Promise((resolve) => operator?.once('exit', resolve));
  operator.kill('SIGTERM');
  await exited;
});

async function token(namespace: string): Promise<string> {
  const out = await kubectl(['get', 'secret', 'ci-gateway-credential', '-o', 'jsonpath={.data.token}'], { namespace });
  return out.code === 0 ? Buffer.from(out.stdout, 'base64').toString() : '';
}

async function authenticated(bearer: string): Promise<boolean> {
  const review = await kubectlOk(['create', '-f', '-', '-o', 'jsonpath={.status.authenticated}'], {
    input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: bearer } }),
  });
  return review.trim() === 'true';
}

describe('operator: forced credential rotation', () => {
  const ns = useTestNamespace('e2e-rotate');

  it('mints a new token on the rotate annotation and revokes the old one after the grace period', async () => {
    await installCrds();
    operator = spawn(process.execPath, ['operator/main.ts'], {
      env: {
        ...process.env, KUBECONFIG: testCluster().kubeconfig, AIRLOCK_LEADER_ELECTION: 'false', AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0',
        AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0', AIRLOCK_CREDENTIAL_REVOKE_AFTER: '5s',
      },
      stdio: 'ignore',
    });
    const sample = parse(await readFile('config/samples/airlock_v1alpha1_accessgateway.yaml', 'utf8')) as { metadata: Record<string, unknown> };
    sample.metadata['namespace'] = ns.name;
    await kubectlOk(['apply', '-f', '-'], { input: stringify(sample) });
    await expect.poll(() => token(ns.name), { timeout: 60_000 }).not.toBe('');
    const first = await token(ns.name);
    expect(await authenticated(first)).toBe(true);

    await kubectlOk(['annotate', 'accessgateway', 'ci-gateway', 'airlock.dev/rotate-credentials=2026-11-24T16:00'], { namespace: ns.name });
    await expect.poll(() => token(ns.name), { timeout: 30_000 }).not.toBe(first);
    const second = await token(ns.name);
    expect(await authenticated(second)).toBe(true);
    expect((await kubectlOk(['get', 'secret', 'ci-gateway-credential', '-o', 'jsonpath={.metadata.annotations.airlock\\.dev/rotation-request}'], { namespace: ns.name })).trim()).toBe('2026-11-24T16:00');
    // The old token still works during the grace period, then is revoked with its anchor.
    await expect.poll(() => authenticated(first), { timeout: 60_000, interval: 1000 }).toBe(false);
    expect(await authenticated(second)).toBe(true);
    // The operator never wrote the user's annotation; the same value does not rotate again.
    const anchors = await kubectlOk(['get', 'secrets', '-l', 'airlock.dev/credential-anchor-of=ci-gateway', '-o', 'name'], { namespace: ns.name });
    expect(anchors.trim().split('\n')).toHaveLength(1);
    await kubectlOk(['delete', 'accessgateway', 'ci-gateway', '--wait=true', '--timeout=60s'], { namespace: ns.name });
  }, 180_000);
});
