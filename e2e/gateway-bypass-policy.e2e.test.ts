// Attacks on the policy decision over the wire, with raw HTTPS and real kubectl: creating what a
// Deny-create rule forbids by another verb (server-side apply, PUT to a kind that creates on
// update), reading a namespace a Deny governs through a request without a namespace (list, watch,
// the old /watch/ path, deletecollection), a Deny scoped by names against requests that name no
// single object, and an earlier broad Allow rule that used to drop a later rule's masks. After
// each attack the admin client checks the upstream state and the gateway must still serve.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const ID = randomBytes(3).toString('hex');
const DEV = `e2e-bypass-${ID}-dev`;
const PROD = `e2e-bypass-${ID}-prod`;
const POLICY_NS = `e2e-bypass-${ID}-policy`;
const SA = 'attacker';
const prodValue = `prod-${randomBytes(12).toString('hex')}`;
const apiKey = `key-${randomBytes(12).toString('hex')}`;
const dbPassword = `db-${randomBytes(12).toString('hex')}`;

let gw: TestGateway;
let token = '';
let attacker = '';
const seen: string[] = [];

interface Answer { status: number; body: string; headers: Record<string, unknown> }

/** One raw request through the gateway as the attacker; a stream is read until it ends or `ms` passes. */
function raw(method: string, path: string, options: { headers?: Record<string, string>; body?: string; ms?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, {
      method, ca: readFileSync(gw.caFile),
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...options.headers, ...(options.body === undefined ? {} : { 'content-length': Buffer.byteLength(options.body) }) },
    }, (res) => {
      const chunks: Buffer[] = [];
      const done = (): void => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push(body);
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      };
      const timer = setTimeout(() => { res.destroy(); done(); }, options.ms ?? 10_000);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { clearTimeout(timer); done(); });
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function asAttacker(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await kubectl(args, { kubeconfig: attacker, ...(input === undefined ? {} : { input }), timeoutMs: 30_000 });
  seen.push(result.stdout, result.stderr);
  return result;
}

/** Whether the admin sees the object (the gateway is not involved). */
async function exists(kind: string, name: string, namespace: string): Promise<boolean> {
  const result = await kubectl(['get', kind, name, '-n', namespace, '-o', 'name']);
  if (result.code !== 0 && !result.stderr.includes('NotFound')) throw new Error(result.stderr);
  return result.code === 0;
}

/** The gateway answers an allowed request after the attack. */
async function stillServes(): Promise<void> {
  const answer = await raw('GET', `/api/v1/namespaces/${DEV}/configmaps/free`);
  expect(answer.status, answer.body).toBe(200);
}

const status = (answer: Answer): { reason?: string; message?: string } => JSON.parse(answer.body) as { reason?: string; message?: string };

beforeAll(async () => {
  await installCrds();
  for (const ns of [DEV, PROD, POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['create', 'serviceaccount', SA, '-n', DEV]);
  const subject = { kind: 'ServiceAccount', name: SA, namespace: DEV };
  // RBAC lets the attacker do all of it: only the gateway's policy stands in the way.
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `e2e-bypass-${ID}` }, rules: [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['*'] },
      { apiGroups: [''], resources: ['nodes', 'namespaces'], verbs: ['get', 'list', 'watch'] },
    ] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `e2e-bypass-${ID}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `e2e-bypass-${ID}` }, subjects: [subject] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'attacker', namespace: DEV }, rules: [
      { apiGroups: [''], resources: ['secrets'], verbs: ['*'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['*'] },
    ] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'attacker', namespace: DEV },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'attacker' }, subjects: [subject] },
  ] }) });
  await kubectlOk(['create', 'configmap', 'prod-settings', '-n', PROD, `--from-literal=value=${prodValue}`]);
  await kubectlOk(['create', 'configmap', 'free', '-n', DEV, '--from-literal=k=v']);
  await kubectlOk(['create', 'configmap', 'settings', '-n', DEV, `--from-literal=api-key=${apiKey}`, '--from-literal=region=eu']);
  await kubectlOk(['create', 'secret', 'generic', 'db', '-n', DEV, `--from-literal=password=${dbPassword}`]);
  await kubectlOk(['create', 'secret', 'generic', 'other', '-n', DEV, '--from-literal=k=v']);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'attacker', namespace: POLICY_NS },
    spec: {
      subjects: [{ serviceAccount: { namespace: DEV, name: SA } }],
      rules: [
        // A broad rule first: it used to decide alone, dropping the masks of the rules after it.
        { name: 'work', action: 'Allow' },
        { name: 'configmap-keys-masked', action: 'Allow', match: { resources: ['configmaps'], namespaces: [DEV] }, mask: { fields: [".data['api-key']"] } },
        { name: 'prod-off-limits', action: 'Deny', match: { resources: ['*'], namespaces: [PROD] }, message: 'prod is off limits' },
        { name: 'no-locked-configmap', action: 'Deny', match: { verbs: ['create'], resources: ['configmaps'], names: ['locked'] }, message: 'locked is reserved' },
        { name: 'no-new-roles', action: 'Deny', match: { verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'] }, message: 'roles are created by the platform team' },
        { name: 'hands-off-db', action: 'Deny', match: { resources: ['secrets'], names: ['db'] }, message: 'the db secret is off limits' },
      ],
    },
  }) });
  gw = await startTestGateway({ name: `e2e-bypass-${ID}`, policyNamespace: POLICY_NS, defaultAction: 'Deny' });
  token = (await kubectlOk(['create', 'token', SA, '-n', DEV, '--duration=1h'])).trim();
  attacker = await gw.kubeconfigFor(token, 'attacker');
  // The gateway has read the policy once an allowed request passes.
  for (const deadline = Date.now() + 15_000; (await raw('GET', `/api/v1/namespaces/${DEV}/configmaps/free`)).status !== 200;) {
    if (Date.now() > deadline) throw new Error('the gateway does not allow the attacker\'s baseline request');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 180_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', DEV, PROD, POLICY_NS, '--wait=false']);
  await kubectl(['delete', 'clusterrole,clusterrolebinding', `e2e-bypass-${ID}`, '--wait=false']);
});

describe('gateway bypass: creating by another verb', () => {
  const locked = stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'locked', namespace: DEV }, data: { k: 'v' } });

  it('refuses kubectl apply --server-side creating a name a Deny-create rule forbids', async () => {
    const result = await asAttacker(['apply', '--server-side', '-f', '-'], locked);
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toContain('locked is reserved');
    expect(result.stderr).toContain('server-side apply creates the object');
    expect(await exists('configmap', 'locked', DEV)).toBe(false);
    await stillServes();
  });

  it.each([
    ['application/apply-patch+yaml'],
    ['application/apply-patch+yaml; charset=utf-8'],
    ['application/apply-patch+cbor'],
    ['Application/Merge-Patch+JSON'],
    [''],
  ])('refuses a raw PATCH with Content-Type %j that could create it', async (contentType) => {
    const answer = await raw('PATCH', `/api/v1/namespaces/${DEV}/configmaps/locked?fieldManager=attacker`, {
      headers: contentType === '' ? {} : { 'content-type': contentType }, body: locked,
    });
    expect(answer.status, answer.body).toBe(403);
    expect(status(answer).message).toContain('locked is reserved');
    expect(await exists('configmap', 'locked', DEV)).toBe(false);
    await stillServes();
  });

  it('still lets a server-side apply create a name no rule forbids', async () => {
    const result = await asAttacker(['apply', '--server-side', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: DEV }, data: { k: 'v' } }));
    expect(result.code, result.stderr).toBe(0);
    expect(await exists('configmap', 'applied', DEV)).toBe(true);
  });

  it('refuses a PUT that would create a Role, raw and with kubectl replace', async () => {
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'sneaky', namespace: DEV }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] };
    const answer = await raw('PUT', `/apis/rbac.authorization.k8s.io/v1/namespaces/${DEV}/roles/sneaky`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(role) });
    expect(answer.status, answer.body).toBe(403);
    expect(status(answer).message).toContain('roles are created by the platform team');
    const replaced = await asAttacker(['replace', '-f', '-'], JSON.stringify(role));
    expect(replaced.code, replaced.stdout).not.toBe(0);
    expect(replaced.stderr).toContain('roles are created by the platform team');
    expect(await exists('role', 'sneaky', DEV)).toBe(false);
    await stillServes();
  });
});

describe('gateway bypass: reading a namespace a Deny governs without naming it', () => {
  const TABLE = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
  it.each([
    ['a list of every namespace', '/api/v1/configmaps', {}],
    ['a list of every namespace as a Table with objects', '/api/v1/configmaps?limit=500&includeObject=Object', TABLE],
    ['a watch of every namespace', '/api/v1/configmaps?watch=1&timeoutSeconds=3', {}],
    ['a watch of every namespace as Table events', '/api/v1/configmaps?watch=true&includeObject=Object&timeoutSeconds=3', TABLE],
    ['a watch on the old /watch/ path', '/api/v1/watch/configmaps?timeoutSeconds=3', {}],
    ['a watch narrowed to prod by a field selector', `/api/v1/configmaps?watch=true&fieldSelector=metadata.namespace%3D${PROD}&timeoutSeconds=3`, {}],
    ['a list of grouped resources of every namespace', '/apis/rbac.authorization.k8s.io/v1/rolebindings', {}],
  ])('refuses %s, saying how to scope it', async (_name, path, headers) => {
    const answer = await raw('GET', path, { ms: 5_000, headers });
    expect(answer.status, answer.body.slice(0, 300)).toBe(403);
    expect(status(answer).message).toContain('kubectl -n NAMESPACE');
    expect(answer.body).not.toContain(prodValue);
    await stillServes();
  });

  it('refuses kubectl get -A and its watch', async () => {
    const list = await asAttacker(['get', 'configmaps', '-A']);
    expect(list.code).not.toBe(0);
    expect(list.stderr).toContain('prod is off limits');
    const watch = await asAttacker(['get', 'configmaps', '-A', '--watch', '--request-timeout=5s']);
    expect(watch.code).not.toBe(0);
    expect(watch.stdout + watch.stderr).toContain('prod is off limits');
    await stillServes();
  });

  it('refuses a deletecollection without a namespace, and prod keeps its data', async () => {
    const answer = await raw('DELETE', '/api/v1/configmaps?labelSelector=');
    expect(answer.status, answer.body).toBe(403);
    expect(status(answer).message).toContain('prod is off limits');
    expect(await exists('configmap', 'prod-settings', PROD)).toBe(true);
    await stillServes();
  });

  it('keeps kubectl get nodes and namespaces working next to a Deny of everything in prod', async () => {
    const nodes = await asAttacker(['get', 'nodes', '-o', 'name']);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toContain('node/');
    const namespaces = await asAttacker(['get', 'namespaces', '-o', 'name']);
    expect(namespaces.code, namespaces.stderr).toBe(0);
    expect(namespaces.stdout).toContain(`namespace/${DEV}`);
    // In one namespace the Deny is exact.
    expect((await asAttacker(['get', 'configmaps', '-n', PROD])).code).not.toBe(0);
    expect((await asAttacker(['get', 'configmaps', '-n', DEV])).code).toBe(0);
  });
});

describe('gateway bypass: a Deny scoped by names', () => {
  it.each([
    ['kubectl get secrets', ['get', 'secrets', '-n', DEV]],
    ['kubectl get secrets --watch', ['get', 'secrets', '-n', DEV, '--watch', '--request-timeout=5s']],
    ['kubectl create secret', ['create', 'secret', 'generic', 'new-one', '-n', DEV, '--from-literal=k=v']],
    ['kubectl delete secrets --all', ['delete', 'secrets', '--all', '-n', DEV]],
  ])('refuses %s, which would reach the name', async (_name, args) => {
    const result = await asAttacker(args);
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toContain('the db secret is off limits');
    // Nothing deleted or created: not the named Secret, not another one on the way to it.
    expect(await exists('secret', 'db', DEV)).toBe(true);
    expect(await exists('secret', 'other', DEV)).toBe(true);
    expect(await exists('secret', 'new-one', DEV)).toBe(false);
    await stillServes();
  });

  it('refuses raw list and watch forms, and lets a request naming another object through', async () => {
    for (const path of [`/api/v1/namespaces/${DEV}/secrets`, `/api/v1/namespaces/${DEV}/secrets?watch=1&timeoutSeconds=2`, `/api/v1/watch/namespaces/${DEV}/secrets?timeoutSeconds=2`]) {
      const answer = await raw('GET', path, { ms: 4_000 });
      expect(answer.status, path).toBe(403);
      expect(status(answer).message).toContain('--field-selector metadata.name=NAME');
    }
    expect((await raw('GET', `/api/v1/namespaces/${DEV}/secrets?fieldSelector=metadata.name%3Ddb`)).status).toBe(403);
    expect((await raw('GET', `/api/v1/namespaces/${DEV}/secrets?fieldSelector=metadata.name%3Dother`)).status).toBe(200);
    const other = await asAttacker(['get', 'secret', 'other', '-n', DEV, '-o', 'name']);
    expect(other.stdout.trim(), other.stderr).toBe('secret/other');
    await stillServes();
  });
});

describe('gateway bypass: masks of every Allow rule apply together', () => {
  it('masks the field a later Allow rule names although an earlier broad rule also allows the request', async () => {
    const read = await asAttacker(['get', 'configmap', 'settings', '-n', DEV, '-o', 'json']);
    expect(read.code, read.stderr).toBe(0);
    expect((JSON.parse(read.stdout) as { data: Record<string, string> }).data).toEqual({ 'api-key': '***MASKED***', region: 'eu' });
    const list = await raw('GET', `/api/v1/namespaces/${DEV}/configmaps`);
    expect(list.status).toBe(200);
    expect(list.body).toContain('***MASKED***');
  });

  it('leaked no protected value in any answer', () => {
    const everything = seen.join('\n');
    for (const value of [prodValue, apiKey, dbPassword]) {
      for (const form of [value, Buffer.from(value).toString('base64')]) expect(everything.includes(form), `found ${form}`).toBe(false);
    }
  });
});
