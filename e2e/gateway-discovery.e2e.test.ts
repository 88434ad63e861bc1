// What every kubectl command needs before it does anything: discovery, /openapi (client-side
// validation, server-side apply) and /version. They pass for every authenticated caller by default,
// as the API server opens them; a Deny still wins; and where a gateway leaves them to its rules,
// a refusal reads as a reason in kubectl, not as "unknown".
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';

const NS = `e2e-disc-${randomBytes(3).toString('hex')}`;
const OPEN_POLICY_NS = `${NS}-open`;
const CLOSED_POLICY_NS = `${NS}-closed`;
let open: TestGateway;
let closed: TestGateway;
let openCi = '';
let closedCi = '';

/** A policy a user would write first: its namespace, nothing about discovery. */
function policy(namespace: string, rules: unknown[]): string {
  return stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'ci', namespace },
    spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules },
  });
}

const configMap = (name: string): string => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });

beforeAll(async () => {
  await installCrds();
  for (const ns of [NS, OPEN_POLICY_NS, CLOSED_POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['create', 'rolebinding', 'ci-edit', '-n', NS, '--clusterrole=edit', `--user=oidc:${CI_CLIENT.clientId}`]);
  await kubectlOk(['apply', '-f', '-'], { input: policy(OPEN_POLICY_NS, [
    { name: 'no-version', match: { nonResourceURLs: ['/version'] }, action: 'Deny', message: 'the version is nobody\'s business' },
    { name: 'app', match: { namespaces: [NS] }, action: 'Allow' },
  ]) });
  await kubectlOk(['apply', '-f', '-'], { input: policy(CLOSED_POLICY_NS, [{ name: 'app', match: { namespaces: [NS] }, action: 'Allow' }]) });
  open = await startTestGateway({ name: 'e2e-disc-open', policyNamespace: OPEN_POLICY_NS });
  closed = await startTestGateway({ name: 'e2e-disc-closed', policyNamespace: CLOSED_POLICY_NS, discovery: 'Policy' });
  openCi = await open.kubeconfigFor(await open.oidc.token(CI_CLIENT.clientId), 'ci');
  closedCi = await closed.kubeconfigFor(await closed.oidc.token(CI_CLIENT.clientId), 'ci');
}, 120_000);

afterAll(async () => {
  await open.stop();
  await closed.stop();
  await kubectl(['delete', 'namespace', NS, OPEN_POLICY_NS, CLOSED_POLICY_NS, '--wait=false']);
});

describe('discovery open to every authenticated caller (the default)', () => {
  it.each([
    ['kubectl apply (client-side validation from /openapi)', ['apply', '-f', '-'], configMap('client-side')],
    ['kubectl apply --server-side', ['apply', '--server-side', '-f', '-'], configMap('server-side')],
    ['kubectl get', ['get', 'configmaps', '-o', 'name'], undefined],
    ['kubectl api-resources', ['api-resources', '--api-group=apps', '-o', 'name'], undefined],
    ['kubectl explain', ['explain', 'configmap.data'], undefined],
  ])('works through a policy that never mentions discovery: %s', async (_name, args, input) => {
    const result = await kubectl(args, { kubeconfig: openCi, namespace: NS, ...(input === undefined ? {} : { input }) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('still lets a Deny rule close a discovery path, with its reason', async () => {
    const result = await kubectl(['version', '-o', 'json'], { kubeconfig: openCi });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('the version is nobody\'s business');
  });
});

describe('discovery left to the rules (policy.discovery: Policy)', () => {
  it.each([
    ['kubectl get', ['get', 'configmaps']],
    ['kubectl version', ['version']],
    ['kubectl api-resources', ['api-resources']],
    ['kubectl apply', ['apply', '-f', '-']],
  ])('%s prints why it was refused, not "unknown"', async (_name, args) => {
    const result = await kubectl(args, { kubeconfig: closedCi, namespace: NS, input: configMap('refused') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('denied by Airlock');
    expect(result.stderr).not.toMatch(/: unknown\b/);
  });
});

describe('a gateway that starts and stops', () => {
  it('logs nothing at warn or above for a clean start and stop (no AbortError from its own shutdown)', async () => {
    const quiet = await startTestGateway({ name: 'e2e-disc-quiet', policyNamespace: OPEN_POLICY_NS });
    await quiet.stop();
    const lines = (await readFile(join(quiet.dir, 'gateway.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.map((l) => l.msg)).toContain('gateway stopped');
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });
});
