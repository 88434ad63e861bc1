// Identities that work through the gateway and nowhere else (identity.forwardAs GatewayOnly), and
// ServiceAccount tokens bound to the gateway's audience, on the real API server with real kubectl:
// the same caller, the same token, the same request, once through the gateway (allowed) and once
// straight at the API server (refused). Then the ways a caller could try to reach the gateway-only
// names without the gateway, or escape them through it: impersonation headers naming them, a name
// that already carries the prefix, impersonation rights granted to the caller's own name.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { writeKubeconfig } from '../hack/controlplane/index.ts';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';

const ID = randomBytes(3).toString('hex');
const NS = `e2e-gwonly-${ID}`;
const POLICY_NS = `${NS}-policy`;
const SA = 'ci';
const SA_USER = `system:serviceaccount:${NS}:${SA}`;
const OIDC_USER = `oidc:${CI_CLIENT.clientId}`;
const ALICE = `alice-${ID}`;
const AUDIENCE = `airlock-e2e-${ID}`;
const GATEWAY_ONLY = `gwonly-${ID}`;
const AUDIENCE_BOUND = `gwaud-${ID}`;
const BIN_DIR = fileURLToPath(new URL('../plugin/bin', import.meta.url));
const prefixOf = (gateway: string): string => `airlock:airlock-system:${gateway}:`;
const PREFIX = prefixOf(GATEWAY_ONLY);

let gw: TestGateway;
let audienceGw: TestGateway;
let apiToken = '';
let audienceToken = '';
const kubeconfigs: Record<string, string> = {};

async function directKubeconfig(name: string, token: string): Promise<string> {
  const server = /server: (\S+)/.exec(await readFile(testCluster().kubeconfig, 'utf8'))?.[1] ?? '';
  return writeKubeconfig(join(gw.dir, `direct-${name}.kubeconfig`), { server, caCertFile: gw.caFile, user: name, token, namespace: NS });
}

function as(who: string, args: readonly string[]): ReturnType<typeof kubectl> {
  const kubeconfig = kubeconfigs[who];
  if (kubeconfig === undefined) throw new Error(`no kubeconfig ${who}`);
  return kubectl(['-n', NS, ...args], { kubeconfig });
}

/** One raw request through a gateway, so any header can be sent as written. */
function raw(target: TestGateway, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${target.url}${path}`, { ca: readFileSync(target.caFile), headers: { accept: 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
    });
    req.on('error', reject);
    req.end();
  });
}

function roleBinding(name: string, users: readonly string[]): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmaps' },
    subjects: users.map((u) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: u })),
  };
}

beforeAll(async () => {
  await installCrds();
  for (const ns of [NS, POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['create', 'serviceaccount', SA, '-n', NS]);
  await kubectlOk(['create', 'configmap', 'app', '-n', NS, '--from-literal=region=eu-west-1']);
  await kubectlOk(['create', 'role', 'configmaps', '-n', NS, '--verb=get,list,create', '--resource=configmaps']);
  // RBAC for the gateway-only names alone: what the README tells a team to bind.
  await kubectlOk(['apply', '-f', '-'], { input: stringify(roleBinding('gateway-only', [
    `${PREFIX}${SA_USER}`, `${PREFIX}${OIDC_USER}`, `${prefixOf(AUDIENCE_BOUND)}${SA_USER}`,
  ])) });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'ci', namespace: POLICY_NS },
    spec: {
      subjects: [{ serviceAccount: { namespace: NS, name: SA } }, { serviceAccount: { namespace: NS, name: 'bot' } }, { claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'configmaps', match: { resources: ['configmaps'], namespaces: [NS] }, action: 'Allow' },
        { name: 'exec', match: { verbs: ['get', 'create'], resources: ['pods', 'pods/exec'], namespaces: [NS], names: ['shell'] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
      ],
    },
  }) });
  gw = await startTestGateway({ name: GATEWAY_ONLY, policyNamespace: POLICY_NS, identity: { forwardAs: 'GatewayOnly' } });
  audienceGw = await startTestGateway({ name: AUDIENCE_BOUND, policyNamespace: POLICY_NS, identity: { forwardAs: 'GatewayOnly' }, serviceAccountAudiences: [AUDIENCE] });
  apiToken = (await kubectlOk(['create', 'token', SA, '-n', NS, '--duration=1h'])).trim();
  audienceToken = (await kubectlOk(['create', 'token', SA, '-n', NS, '--duration=1h', '--audience', AUDIENCE])).trim();
  const oidcToken = await gw.oidc.token(CI_CLIENT.clientId);
  kubeconfigs['sa-gateway'] = await gw.kubeconfigFor(apiToken, 'sa');
  kubeconfigs['sa-direct'] = await directKubeconfig('sa', apiToken);
  kubeconfigs['oidc-gateway'] = await gw.kubeconfigFor(oidcToken, 'oidc');
  kubeconfigs['oidc-direct'] = await directKubeconfig('oidc', oidcToken);
  kubeconfigs['aud-gateway'] = await audienceGw.kubeconfigFor(audienceToken, 'aud');
  kubeconfigs['aud-direct'] = await directKubeconfig('aud', audienceToken);
  kubeconfigs['api-token-aud-gateway'] = await audienceGw.kubeconfigFor(apiToken, 'api-token');
}, 180_000);

afterAll(async () => {
  await gw.stop();
  await audienceGw.stop();
  await kubectl(['delete', 'namespace', NS, POLICY_NS, '--wait=false']);
  await kubectl(['delete', 'clusterrolebinding,clusterrole', '-l', `airlock-e2e=${ID}`]);
});

describe('GatewayOnly: a ServiceAccount works through the gateway and not around it', () => {
  it('reads through the gateway; the same token straight at the API server is forbidden', async () => {
    const through = await as('sa-gateway', ['get', 'configmap', 'app', '-o', 'jsonpath={.data.region}']);
    expect(through.stdout, through.stderr).toBe('eu-west-1');
    const direct = await as('sa-direct', ['get', 'configmap', 'app']);
    expect(direct.code).not.toBe(0);
    // Authenticated (the token is good), then refused: no RBAC under the caller's own name.
    expect(direct.stderr).toContain(`User "${SA_USER}" cannot get resource "configmaps"`);
  });

  it('writes through the gateway; the same write straight at the API server is forbidden and creates nothing', async () => {
    expect((await as('sa-gateway', ['create', 'configmap', 'through-gateway'])).code).toBe(0);
    const direct = await as('sa-direct', ['create', 'configmap', 'around-gateway']);
    expect(direct.stderr).toContain(`User "${SA_USER}" cannot create resource "configmaps"`);
    expect((await kubectl(['get', 'configmap', 'around-gateway', '-n', NS])).code).not.toBe(0);
  });

  it('audits both names: the gateway records the true caller and what it forwarded as, the API server the gateway-only name', async () => {
    expect((await as('sa-gateway', ['get', 'configmaps', '-l', `audited=${ID}`])).code).toBe(0);
    type Record = { auditID: string; effective?: { username: string }; forwardedAs?: { username: string; groups: string[] }; stage: string; requestURI: string };
    const found = async (): Promise<Record | undefined> => (await readFile(gw.auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record)
      .find((r) => r.stage === 'ResponseComplete' && r.requestURI.includes(`audited%3D${ID}`));
    await expect.poll(found, { timeout: 5_000 }).toMatchObject({
      effective: { username: SA_USER },
      forwardedAs: { username: `${PREFIX}${SA_USER}`, groups: expect.arrayContaining([`${PREFIX}system:serviceaccounts:${NS}`]) as unknown },
    });
    const auditID = (await found())?.auditID ?? '';
    const auditLog = inject('auditLog');
    expect(auditLog, 'the local control plane exposes its audit log').not.toBe('');
    const upstream = async (): Promise<unknown> => (await readFile(auditLog, 'utf8')).split('\n').filter((l) => l.includes(auditID))
      .map((l) => JSON.parse(l) as { impersonatedUser?: unknown })[0]?.impersonatedUser;
    await expect.poll(upstream, { timeout: 10_000 }).toMatchObject({
      username: `${PREFIX}${SA_USER}`, extra: { 'airlock.dev/audit-id': [auditID] },
    });
  });
});

describe('GatewayOnly on the upgrade path', () => {
  it('execs through the gateway (WebSocket and SPDY) under the gateway-only name; the same exec straight at the API server is forbidden', async () => {
    await kubectlOk(['run', 'shell', '-n', NS, '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
    await kubectlOk(['wait', '--for=condition=Ready', 'pod/shell', '-n', NS, '--timeout=60s']);
    await kubectlOk(['create', 'role', 'exec', '-n', NS, '--verb=get,create', '--resource=pods,pods/exec']);
    await kubectlOk(['create', 'rolebinding', 'exec', '-n', NS, '--role=exec', `--user=${PREFIX}${SA_USER}`]);
    const ws = await as('sa-gateway', ['exec', 'shell', '--', 'echo', 'through the gateway']);
    expect(ws.stdout, ws.stderr).toBe('through the gateway\n');
    const spdy = await kubectl(['-n', NS, 'exec', 'shell', '--', 'echo', 'over spdy'], { kubeconfig: kubeconfigs['sa-gateway'] ?? '', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } });
    expect(spdy.stdout, spdy.stderr).toBe('over spdy\n');
    const direct = await as('sa-direct', ['exec', 'shell', '--', 'echo', 'around the gateway']);
    expect(direct.stdout).not.toContain('around the gateway');
    expect(direct.stderr).toMatch(new RegExp(`User "${SA_USER}" cannot (get|create) resource "pods`));
  });
});

describe('kubectl airlock rolebinding', () => {
  it('prints the binding that makes a ServiceAccount work through the gateway, and only there', async () => {
    await kubectlOk(['create', 'serviceaccount', 'bot', '-n', NS]);
    const token = (await kubectlOk(['create', 'token', 'bot', '-n', NS, '--duration=1h'])).trim();
    const through = await gw.kubeconfigFor(token, 'bot');
    const direct = await directKubeconfig('bot', token);
    const before = await kubectl(['get', 'configmap', 'app', '-n', NS], { kubeconfig: through });
    expect(before.stderr).toContain(`User "${PREFIX}system:serviceaccount:${NS}:bot" cannot get resource "configmaps"`);

    // The plugin as kubectl finds it on PATH, its output applied as the README shows.
    const printed = await kubectlOk(['airlock', 'rolebinding', '--serviceaccount', `${NS}:bot`, '--gateway', `airlock-system/${GATEWAY_ONLY}`, '--role', 'configmaps', '-n', NS],
      { env: { PATH: `${BIN_DIR}:/usr/bin:/bin` } });
    await kubectlOk(['apply', '-f', '-'], { input: printed });
    await expect.poll(async () => (await kubectl(['get', 'configmap', 'app', '-n', NS, '-o', 'jsonpath={.data.region}'], { kubeconfig: through })).stdout, { timeout: 10_000 }).toBe('eu-west-1');
    const around = await kubectl(['get', 'configmap', 'app', '-n', NS], { kubeconfig: direct });
    expect(around.stderr).toContain(`User "system:serviceaccount:${NS}:bot" cannot get resource "configmaps"`);
  });
});

describe('GatewayOnly: an OIDC caller', () => {
  it('reads through the gateway and is not even authenticated straight at the API server', async () => {
    const through = await as('oidc-gateway', ['get', 'configmap', 'app', '-o', 'jsonpath={.data.region}']);
    expect(through.stdout, through.stderr).toBe('eu-west-1');
    const direct = await as('oidc-direct', ['get', 'configmap', 'app']);
    expect(direct.code).not.toBe(0);
    expect(direct.stderr).toMatch(/Unauthorized|must be logged in/);
  });
});

describe('attack: reaching the gateway-only names some other way', () => {
  it.each([
    ['Impersonate-User naming the gateway-only name of the caller', { 'Impersonate-User': `${PREFIX}${SA_USER}` }],
    ['the same header in lower case', { 'impersonate-user': `${PREFIX}${SA_USER}` }],
    ['Impersonate-Group naming a gateway-only group', { 'Impersonate-User': ALICE, 'Impersonate-Group': `${PREFIX}system:masters` }],
    ['Impersonate-Uid inside the prefix', { 'Impersonate-User': ALICE, 'Impersonate-Uid': `${PREFIX}1` }],
  ])('%s is refused before anything is forwarded', async (_name, headers) => {
    const answer = await raw(gw, `/api/v1/namespaces/${NS}/configmaps/app`, { authorization: `Bearer ${apiToken}`, ...headers });
    expect(answer.status, answer.body).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: expect.stringContaining('reserved for identities this gateway forwards') as unknown });
    expect(answer.body).not.toContain('eu-west-1');
  });

  it('kubectl --as with the gateway-only name is refused the same way', async () => {
    const result = await as('sa-gateway', ['get', 'configmap', 'app', `--as=${PREFIX}${SA_USER}`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('reserved for identities this gateway forwards');
  });

  it('a caller whose own name is inside the prefix is refused, with the reason', async () => {
    const colliding = await startTestGateway({ name: `gwcollide-${ID}`, policyNamespace: POLICY_NS, identity: { forwardAs: 'GatewayOnly', prefix: 'oidc:' } });
    try {
      const answer = await raw(colliding, `/api/v1/namespaces/${NS}/configmaps/app`, { authorization: `Bearer ${await colliding.oidc.token(CI_CLIENT.clientId)}` });
      expect(answer.status, answer.body).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({ message: expect.stringContaining(`the username "${OIDC_USER}" is refused: names starting with "oidc:" are reserved`) as unknown });
    } finally {
      await colliding.stop();
    }
  });

  it('impersonation rights granted to the caller\'s own name do not count; granted to its gateway-only name, the target is forwarded behind the prefix too', async () => {
    await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `e2e-gwonly-${ID}-as-alice`, labels: { 'airlock-e2e': ID } }, rules: [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: [ALICE, `${PREFIX}${ALICE}`] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `e2e-gwonly-${ID}-own-name`, labels: { 'airlock-e2e': ID } }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `e2e-gwonly-${ID}-as-alice` }, subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NS }] },
      // alice's own name may read: an impersonation that reached it unprefixed would succeed.
      roleBinding('alice-own-name', [ALICE]),
    ] }) });
    const ownName = await as('sa-gateway', ['get', 'configmap', 'app', `--as=${ALICE}`]);
    expect(ownName.code).not.toBe(0);
    expect(ownName.stderr).toContain(`User "${PREFIX}${SA_USER}" cannot impersonate resource "users"`);

    await kubectlOk(['create', 'clusterrolebinding', `e2e-gwonly-${ID}-gateway-name`, `--clusterrole=e2e-gwonly-${ID}-as-alice`, `--user=${PREFIX}${SA_USER}`]);
    await kubectlOk(['label', 'clusterrolebinding', `e2e-gwonly-${ID}-gateway-name`, `airlock-e2e=${ID}`]);
    await expect.poll(async () => (await as('sa-gateway', ['get', 'configmap', 'app', `--as=${ALICE}`])).stderr, { timeout: 10_000 })
      .toContain(`User "${PREFIX}${ALICE}" cannot get resource "configmaps"`);
    await kubectlOk(['apply', '-f', '-'], { input: stringify(roleBinding('alice-gateway-name', [`${PREFIX}${ALICE}`])) });
    await expect.poll(async () => (await as('sa-gateway', ['get', 'configmap', 'app', `--as=${ALICE}`, '-o', 'jsonpath={.data.region}'])).stdout, { timeout: 10_000 }).toBe('eu-west-1');
  });
});

describe("the gateway's own credential: least privilege", () => {
  it('cannot read a Secret, list Secrets or create a Pod as itself, though its token works', async () => {
    await kubectlOk(['create', 'secret', 'generic', 'db', '-n', NS, '--from-literal=password=hunter2']);
    const own = await directKubeconfig('gateway', (await readFile(join(gw.dir, 'token'), 'utf8')).trim());
    const user = `system:serviceaccount:airlock-system:airlock-gateway-${GATEWAY_ONLY}`;
    // The token authenticates: what it may do is exactly impersonation and the reviews.
    expect((await kubectl(['auth', 'can-i', 'impersonate', 'users'], { kubeconfig: own })).stdout.trim()).toBe('yes');
    const secret = await kubectl(['get', 'secret', 'db', '-n', NS, '-o', 'yaml'], { kubeconfig: own });
    expect(secret.stderr).toContain(`User "${user}" cannot get resource "secrets"`);
    expect(secret.stdout).not.toContain(Buffer.from('hunter2').toString('base64'));
    expect((await kubectl(['get', 'secrets', '-A'], { kubeconfig: own })).stderr).toContain(`User "${user}" cannot list resource "secrets"`);
    const pod = await kubectl(['run', 'escape', '-n', NS, '--image=busybox', '--restart=Never'], { kubeconfig: own });
    expect(pod.stderr).toContain(`User "${user}" cannot create resource "pods"`);
    expect((await kubectl(['get', 'pod', 'escape', '-n', NS])).code).not.toBe(0);
  });
});

describe('a gateway that requires its own audience', () => {
  it('takes a token for its audience, which the API server itself refuses', async () => {
    const through = await as('aud-gateway', ['get', 'configmap', 'app', '-o', 'jsonpath={.data.region}']);
    expect(through.stdout, through.stderr).toBe('eu-west-1');
    const direct = await as('aud-direct', ['get', 'configmap', 'app']);
    expect(direct.code).not.toBe(0);
    expect(direct.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('refuses the API-audience token, saying which audience to request and how', async () => {
    const result = await as('api-token-aud-gateway', ['get', 'configmap', 'app']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`kubectl create token ${SA} -n ${NS} --audience ${AUDIENCE}`);
    expect(result.stderr).not.toContain(apiToken);
    const answer = await raw(audienceGw, `/api/v1/namespaces/${NS}/configmaps/app`, { authorization: `Bearer ${apiToken}` });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: expect.stringContaining(`"${AUDIENCE}"`) as unknown });
  });
});
