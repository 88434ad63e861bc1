// The gateway on the real control plane, driven by the real kubectl: a CI identity with an OIDC
// token from a real issuer, a ServiceAccount token, policies applied with kubectl, impersonation,
// streaming, exec, and an audit trail that verifies and catches a changed byte.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, OTHER_CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';

const POLICY_NS = 'airlock-gw-e2e';
const APP_NS = 'payments';

let gw: TestGateway;
let ciKubeconfig = '';
let ciToken = '';

async function asCaller(kubeconfig: string, args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return kubectl(args, { kubeconfig, ...(input === undefined ? {} : { input }) });
}

async function auditRecords(): Promise<Record<string, unknown>[]> {
  const text = await readFile(gw.auditFile, 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  await installCrds();
  for (const ns of [POLICY_NS, APP_NS]) await kubectl(['create', 'namespace', ns]);
  // RBAC for the CI identity itself (the gateway forwards as it; RBAC still decides upstream).
  await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'ci-edit', namespace: APP_NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `oidc:${CI_CLIENT.clientId}` }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'ci-view-namespaces' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'airlock-e2e-namespaces' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `oidc:${CI_CLIENT.clientId}` }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'airlock-e2e-namespaces' },
      rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'delete'] }] },
    // The CI identity may impersonate one bot user and one group, nothing else.
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'airlock-e2e-impersonate' },
      rules: [
        { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['deployer-bot'] },
        { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['deployers'] },
      ] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'ci-impersonate' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'airlock-e2e-impersonate' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `oidc:${CI_CLIENT.clientId}` }] },
  ] }) });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'payments-ci', namespace: POLICY_NS },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'no-namespace-deletes', match: { verbs: ['delete', 'deletecollection'], resources: ['namespaces'] }, action: 'Deny', message: 'CI may not delete namespaces; ask #platform' },
        { name: 'deploy-payments', match: { apiGroups: ['', 'apps'], namespaces: [APP_NS] }, action: 'Allow' },
        { name: 'read-namespaces', match: { verbs: ['get', 'list'], resources: ['namespaces'] }, action: 'Allow' },
        { name: 'self-review', match: { verbs: ['create'], apiGroups: ['authorization.k8s.io', 'authentication.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews'] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
      ],
    },
  }) });
  gw = await startTestGateway({ name: 'e2e', policyNamespace: POLICY_NS });
  ciToken = await gw.oidc.token(CI_CLIENT.clientId);
  ciKubeconfig = await gw.kubeconfigFor(ciToken, 'ci');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', POLICY_NS, APP_NS, '--wait=false']);
});

describe('gateway: a CI identity with an OIDC token', () => {
  it('creates and reads objects its policy allows, as itself (RBAC applies upstream)', async () => {
    const created = await asCaller(ciKubeconfig, ['create', 'configmap', 'release', '--from-literal=version=1.2.3', '-n', APP_NS]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('configmap/release created');
    const got = await asCaller(ciKubeconfig, ['get', 'configmap', 'release', '-n', APP_NS, '-o', 'jsonpath={.data.version}']);
    expect(got.stdout).toBe('1.2.3');
    // The API server saw the CI identity, impersonated by the gateway.
    const auditLog = inject('auditLog');
    const events = (await readFile(auditLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as {
      verb: string; objectRef?: { name?: string }; user: { username: string }; impersonatedUser?: { username: string; extra?: Record<string, string[]> };
    });
    // The newest such event: a shared control plane's log may hold earlier runs'.
    const create = events.findLast((e) => e.verb === 'create' && e.objectRef?.name === 'release');
    expect(create?.impersonatedUser?.username).toBe(`oidc:${CI_CLIENT.clientId}`);
    expect(create?.user.username).toBe('system:serviceaccount:airlock-system:airlock-gateway-e2e');
    expect(Object.keys(create?.impersonatedUser?.extra ?? {})).toContain('airlock.dev/audit-id');
  });

  it('is denied a namespace delete with the rule message, and the namespace stays', async () => {
    const result = await asCaller(ciKubeconfig, ['delete', 'namespace', APP_NS]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('CI may not delete namespaces; ask #platform');
    expect(result.stderr).toMatch(/forbidden/i);
    expect((await kubectlOk(['get', 'namespace', APP_NS, '-o', 'name'])).trim()).toBe(`namespace/${APP_NS}`);
  });

  it('is denied by default outside its policy, told which gateway refused and how to see its policies', async () => {
    const result = await asCaller(ciKubeconfig, ['get', 'pods', '-n', 'kube-system']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/forbidden/i);
    expect(result.stderr).toContain(`denied by Airlock: no policy rule allows this request through AccessGateway airlock-system/e2e (default action Deny); its policies: kubectl get accesspolicies -n ${POLICY_NS}`);
  });

  it('still meets Kubernetes RBAC for the real identity', async () => {
    // Allowed by policy (deploy-payments covers apps in payments), but RBAC "edit" cannot create RoleBindings.
    const result = await asCaller(ciKubeconfig, ['create', 'rolebinding', 'sneaky', '--clusterrole=admin', '--user=x', '-n', APP_NS]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`User "oidc:${CI_CLIENT.clientId}" cannot create resource "rolebindings"`);
  });

  it('discovers the API (api-resources) and asks auth can-i', async () => {
    const resources = await asCaller(ciKubeconfig, ['api-resources', '--api-group=airlock.dev', '-o', 'name']);
    expect(resources.stdout.trim().split('\n').sort()).toEqual(['accessgateways.airlock.dev', 'accesspolicies.airlock.dev', 'approvalrequests.airlock.dev']);
    const canI = await asCaller(ciKubeconfig, ['auth', 'can-i', 'create', 'deployments', '-n', APP_NS]);
    expect(canI.stdout.trim()).toBe('yes');
  });

  it('streams a watch: a change made after the watch started arrives', async () => {
    const child = execFile(inject('kubectlPath'), ['get', 'configmaps', '-n', APP_NS, '-w', '-o', 'name', '--kubeconfig', ciKubeconfig]);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    await expect.poll(() => output, { timeout: 15_000 }).toContain('configmap/release');
    await kubectlOk(['create', 'configmap', 'later', '-n', APP_NS]);
    await expect.poll(() => output, { timeout: 15_000 }).toContain('configmap/later');
    const watchesBefore = new Set((await auditRecords()).filter((r) => r['verb'] === 'watch' && r['stage'] === 'RequestReceived').map((r) => r['auditID']));
    child.kill();
    // The client ended the watch (^C): its ResponseComplete record still comes, and says so.
    const ended = async (): Promise<Record<string, unknown>[]> => (await auditRecords())
      .filter((r) => r['verb'] === 'watch' && r['stage'] === 'ResponseComplete' && watchesBefore.has(r['auditID']));
    await expect.poll(ended, { timeout: 15_000 }).toContainEqual(expect.objectContaining({
      objectRef: { namespace: APP_NS, resource: 'configmaps' },
      responseStatus: { code: 200, message: 'the client closed the connection' },
    }));
  });

  it('runs exec into a kwok pod through the gateway', async () => {
    await kubectlOk(['run', 'shell', '--image=busybox', '--restart=Never', '-n', APP_NS, '--', 'sleep', '3600']);
    await kubectlOk(['wait', '--for=condition=Ready', 'pod/shell', '-n', APP_NS, '--timeout=60s']);
    const ws = await asCaller(ciKubeconfig, ['exec', 'shell', '-n', APP_NS, '--', 'echo', 'through the gateway']);
    expect(ws.stdout).toBe('through the gateway\n');
    const spdy = await kubectl(['exec', 'shell', '-n', APP_NS, '--', 'echo', 'over spdy'], { kubeconfig: ciKubeconfig, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
    expect(spdy.stdout).toBe('over spdy\n');
  });

  it('follows logs', async () => {
    const logs = await asCaller(ciKubeconfig, ['logs', 'shell', '-n', APP_NS]);
    expect(logs.stdout).toContain('simulated container log');
  });

  it('another repository is denied everything', async () => {
    const other = await gw.kubeconfigFor(await gw.oidc.token(OTHER_CI_CLIENT.clientId), 'other');
    const result = await asCaller(other, ['get', 'configmaps', '-n', APP_NS]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/forbidden/i);
  });
});

async function rawGet(path: string, headers: [string, string][]): Promise<{ code: number; body: string }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { ca: readFileSync(gw.caFile) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => { resolve({ code: res.statusCode ?? 0, body }); });
    });
    // appendHeader keeps repeated and oddly-cased header lines as the caller sent them.
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('error', reject);
    req.end();
  });
}

describe('gateway: impersonation', () => {
  const whoami = async (args: string[]): Promise<{ stdout: string; stderr: string; code: number }> =>
    asCaller(ciKubeconfig, ['auth', 'whoami', '-o', 'json', ...args]);

  it('forwards as the caller itself when it asks for no one else: the groups the gateway decided on', async () => {
    const result = await whoami([]);
    const info = (JSON.parse(result.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    expect(info.username).toBe(`oidc:${CI_CLIENT.clientId}`);
    const decided = (await auditRecords()).filter((r) => r['stage'] === 'ResponseComplete' && (r['objectRef'] as { resource?: string } | undefined)?.resource === 'selfsubjectreviews').at(-1);
    expect(info.groups.toSorted()).toEqual(((decided?.['effective'] as { groups: string[] } | undefined)?.groups ?? []).toSorted());
    expect(info.groups).toContain('system:authenticated');
  });

  it('lets the caller act as a user it may impersonate, keeping both identities', async () => {
    const result = await whoami(['--as=deployer-bot', '--as-group=deployers']);
    expect(result.stderr).toBe('');
    const info = (JSON.parse(result.stdout) as { status: { userInfo: { username: string; groups: string[]; extra: Record<string, string[]> } } }).status.userInfo;
    expect(info.username).toBe('deployer-bot');
    expect(info.groups).toEqual(['deployers', 'system:authenticated']);
    expect(info.extra['airlock.dev/caller']).toEqual([`oidc:${CI_CLIENT.clientId}`]);
  });

  it.each([
    ['a user it may not impersonate', ['--as=cluster-admin'], 'users "cluster-admin" is forbidden'],
    ['a group it may not impersonate', ['--as=deployer-bot', '--as-group=system:masters'], 'groups "system:masters" is forbidden'],
    ['a uid', ['--as=deployer-bot', '--as-uid=1234'], 'uids.authentication.k8s.io "1234" is forbidden'],
  ])('refuses %s with 403 naming it', async (_name, args, message) => {
    // get --raw prints the Status message (auth whoami hides it).
    const result = await asCaller(ciKubeconfig, ['get', '--raw', '/apis/authentication.k8s.io/v1', ...args]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(`User "oidc:${CI_CLIENT.clientId}" cannot impersonate`);
  });

  it.each([
    ['upper-case header names', [['IMPERSONATE-USER', 'cluster-admin']], 403],
    ['a mixed-case extra header', [['Impersonate-User', 'deployer-bot'], ['impersonate-EXTRA-scopes', 'admin']], 403],
    ['two Impersonate-User lines', [['Impersonate-User', 'deployer-bot'], ['Impersonate-User', 'cluster-admin']], 400],
    ['a group without a user', [['Impersonate-Group', 'deployers']], 400],
  ] as [string, [string, string][], number][])('checks %s like the API server (%s)', async (_name, headers, code) => {
    const answer = await rawGet('/apis/authentication.k8s.io/v1', [['Authorization', `Bearer ${ciToken}`], ...headers]);
    expect(answer.code).toBe(code);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', code });
  });

  it('never forwards a client Impersonate header it did not check: a comma in a group is one group', async () => {
    const answer = await rawGet('/apis/authentication.k8s.io/v1', [
      ['Authorization', `Bearer ${ciToken}`], ['Impersonate-User', 'deployer-bot'], ['Impersonate-Group', 'deployers, system:masters'],
    ]);
    expect(answer.code).toBe(403);
    expect((JSON.parse(answer.body) as { message: string }).message).toContain('groups "deployers, system:masters" is forbidden');
  });
});

describe('gateway: policy changes', () => {
  it('applies an edited AccessPolicy within a second, with no restart', async () => {
    const before = await asCaller(ciKubeconfig, ['get', 'secrets', '-n', APP_NS]);
    expect(before.code).toBe(0);
    await kubectlOk(['apply', '-f', '-'], { input: stringify({
      apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'no-secrets', namespace: POLICY_NS },
      spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules: [{ name: 'no-secrets', match: { resources: ['secrets'] }, action: 'Deny', message: 'secrets are off limits' }] },
    }) });
    const applied = Date.now();
    await expect.poll(async () => (await asCaller(ciKubeconfig, ['get', 'secrets', '-n', APP_NS])).stderr, { timeout: 5_000, interval: 50 })
      .toContain('secrets are off limits');
    process.stderr.write(`[e2e] policy change in effect after ${Date.now() - applied} ms\n`);
    await kubectlOk(['delete', 'accesspolicy', 'no-secrets', '-n', POLICY_NS]);
    await expect.poll(async () => (await asCaller(ciKubeconfig, ['get', 'secrets', '-n', APP_NS])).code, { timeout: 5_000, interval: 50 }).toBe(0);
  });
});

describe('gateway: authentication', () => {
  it('answers a request without a token with a 401 Status', async () => {
    const { request } = await import('node:https');
    const answer = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = request(`${gw.url}/api/v1/namespaces/${APP_NS}/configmaps`, { ca: readFileSync(gw.caFile) }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => { resolve({ code: res.statusCode ?? 0, body }); });
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.code).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it.each([
    ['a malformed token', 'not-a-jwt'],
    ['alg none', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`],
  ])('refuses %s with 401 and forwards nothing', async (_name, token) => {
    const kubeconfig = await gw.kubeconfigFor(token, `bad-${_name.replace(/\W/g, '')}`);
    const result = await asCaller(kubeconfig, ['get', 'configmaps', '-n', APP_NS]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized|provide credentials/i);
  });

  it('accepts a ServiceAccount token through TokenReview, as that ServiceAccount', async () => {
    await kubectlOk(['create', 'serviceaccount', 'deployer', '-n', APP_NS]);
    await kubectlOk(['apply', '-f', '-'], { input: stringify({
      apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'deployer', namespace: POLICY_NS },
      spec: { subjects: [{ serviceAccount: { namespace: APP_NS, name: 'deployer' } }], rules: [
        { name: 'read', match: { verbs: ['get', 'list'] }, action: 'Allow' },
        { name: 'whoami', match: { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] }, action: 'Allow' },
      ] },
    }) });
    const token = (await kubectlOk(['create', 'token', 'deployer', '-n', APP_NS])).trim();
    const kubeconfig = await gw.kubeconfigFor(token, 'deployer');
    await expect.poll(async () => (await asCaller(kubeconfig, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout, { timeout: 10_000 })
      .toBe(`system:serviceaccount:${APP_NS}:deployer`);
    // The identity upstream is exactly the token's own: the same groups as the token straight at
    // the API server (the gateway leaves system:authenticated for the API server to add back).
    const groupsOf = (json: string): string[] => (JSON.parse(json) as { status: { userInfo: { groups: string[] } } }).status.userInfo.groups.toSorted();
    const server = await kubectlOk(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
    const direct = await kubectlOk(['auth', 'whoami', '-o', 'json', `--server=${server}`, '--insecure-skip-tls-verify', `--token=${token}`], { kubeconfig: '/dev/null' });
    const through = await asCaller(kubeconfig, ['auth', 'whoami', '-o', 'json']);
    expect(groupsOf(through.stdout)).toEqual(groupsOf(direct));
    expect(groupsOf(direct)).toEqual(['system:authenticated', 'system:serviceaccounts', `system:serviceaccounts:${APP_NS}`]);
    // RBAC: the ServiceAccount has no role, so the API server itself refuses the list.
    const list = await asCaller(kubeconfig, ['get', 'configmaps', '-n', APP_NS]);
    expect(list.stderr).toContain(`User "system:serviceaccount:${APP_NS}:deployer" cannot list resource "configmaps"`);
  });
});

describe('gateway: audit trail', () => {
  it('records every request with both identities and the decision, and the chain verifies', async () => {
    const records = await auditRecords();
    const denied = records.find((r) => (r['decision'] as { action?: string } | undefined)?.action === 'deny');
    expect(denied).toBeDefined();
    // No record carries the caller's token, whole or in part (its signature is the secret part).
    expect(JSON.stringify(records)).not.toContain(ciToken.split('.')[2]);
    const verify = await promisify(execFile)(process.execPath, ['gateway/audit/verify-cli.ts', gw.auditFile]).catch((e: unknown) => e as { stdout: string });
    expect(verify.stdout).toMatch(/^ok: \d+ records/);
  });

  it('keeps request bodies at level Request (a ConfigMap create, a scale patch), never a Secret\'s', async () => {
    const secretValue = `s3cr3t-${Date.now().toString(36)}`;
    // kubectl sends built-in types as protobuf on create (decoded into the JSON the API server
    // writes), JSON for patches and YAML for server-side apply.
    await asCaller(ciKubeconfig, ['create', 'configmap', 'audited-proto', '-n', APP_NS, '--from-literal=colour=teal']);
    await asCaller(ciKubeconfig, ['apply', '--server-side', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited-body', namespace: APP_NS }, data: { colour: 'teal' } }));
    await asCaller(ciKubeconfig, ['create', 'secret', 'generic', 'audited-secret', '-n', APP_NS, `--from-literal=password=${secretValue}`]);
    await asCaller(ciKubeconfig, ['patch', 'configmap', 'audited-body', '-n', APP_NS, '--type=merge', '-p', '{"data":{"colour":"plum"}}']);
    const received = (await auditRecords()).filter((r) => r['stage'] === 'RequestReceived');
    const bodies = (verb: string, resource: string): unknown[] => received
      .filter((r) => r['verb'] === verb && (r['objectRef'] as { resource?: string } | undefined)?.resource === resource)
      .map((r) => r['requestObject']);
    expect(bodies('create', 'configmaps')).toContainEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited-proto', namespace: APP_NS }, data: { colour: 'teal' } });
    expect(bodies('patch', 'configmaps')).toContainEqual(expect.objectContaining({ kind: 'ConfigMap', data: { colour: 'teal' } }));
    expect(bodies('patch', 'configmaps')).toContainEqual({ data: { colour: 'plum' } });
    const secretCreate = received.find((r) => r['verb'] === 'create' && (r['objectRef'] as { resource?: string } | undefined)?.resource === 'secrets');
    expect(secretCreate).toBeDefined();
    expect(secretCreate?.['requestObject']).toBeUndefined();
    const everything = await readFile(gw.auditFile, 'utf8');
    for (const form of [secretValue, Buffer.from(secretValue).toString('base64'), Buffer.from(secretValue).toString('base64url')]) {
      expect(everything).not.toContain(form);
    }
    // The buffered bodies were forwarded intact.
    expect((await kubectlOk(['get', 'configmap', 'audited-body', '-n', APP_NS, '-o', 'jsonpath={.data.colour}'])).trim()).toBe('plum');
  });

  it('names the first broken record when a byte changes', async () => {
    const text = await readFile(gw.auditFile, 'utf8');
    const lines = text.split('\n');
    const target = Math.floor(lines.length / 2);
    lines[target] = (lines[target] ?? '').replace('"verb":"', '"verb":"X');
    const tampered = `${gw.auditFile}.tampered`;
    await writeFile(tampered, lines.join('\n'));
    const result = await promisify(execFile)(process.execPath, ['gateway/audit/verify-cli.ts', tampered]).then(
      (r) => ({ code: 0, stdout: r.stdout }), (e: unknown) => e as { code: number; stdout: string });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${tampered}:${target + 1}`);
  });
});
