// Attacks on a running gateway over the wire, the way a hostile or careless caller would make them:
// upgrades where the API server does not upgrade, a WebSocket watch of Secrets, a watch of Tables,
// a masked Secret written back, identities that cannot be forwarded unchanged, and requests meant
// to stop the gateway. After each, the admin checks the real state (nothing leaked, changed or
// created) and the gateway still serves.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';
import { MASKED_BASE64, MASKED_TEXT } from '../gateway/mask/mask-plan.ts';

const NS = `e2e-wire-${randomBytes(3).toString('hex')}`;
const POLICY_NS = `${NS}-policy`;
const password = `pw-${randomBytes(12).toString('hex')}`;
const appliedToken = `tok-${randomBytes(12).toString('hex')}`;
const apiKey = `key-${randomBytes(12).toString('hex')}`;
const seen: string[] = [];
let gw: TestGateway;
let ci = '';
let ciToken = '';

interface RawAnswer { readonly status: number; readonly head: string; readonly body: string }

/**
 * One request on its own TLS connection, written byte for byte (so any header can be sent), read
 * until the server closes or `settleMs` of quiet after the head (a 101 keeps the socket open).
 */
function rawRequest(request: { method?: string; path: string; headers?: Record<string, string>; body?: string; token?: string; settleMs?: number }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(gw.url);
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: readFileSync(gw.caFile), servername: 'localhost' });
    const headers = { Host: url.host, Authorization: `Bearer ${request.token ?? ciToken}`, ...request.headers };
    const lines = [`${request.method ?? 'GET'} ${request.path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    if (request.body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(request.body)}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`);
    const chunks: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(quiet);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      seen.push(text);
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head: text.slice(0, split), body: split < 0 ? '' : text.slice(split + 4) });
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(quiet);
      quiet = setTimeout(finish, request.settleMs ?? 1500);
    });
    socket.on('end', finish);
    socket.on('error', reject);
    setTimeout(finish, 15_000).unref();
  });
}

/** The value in every form an answer could carry it. */
function forms(value: string): string[] {
  return [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url')];
}

async function stillServing(): Promise<void> {
  const result = await kubectl(['get', 'configmap', 'plain', '-o', 'jsonpath={.data.region}'], { kubeconfig: ci, namespace: NS });
  expect(result.stdout, result.stderr).toBe('eu-west-1');
}

beforeAll(async () => {
  await installCrds();
  for (const ns of [NS, POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['create', 'rolebinding', 'ci-edit', '-n', NS, '--clusterrole=edit', `--user=oidc:${CI_CLIENT.clientId}`]);
  await kubectlOk(['create', 'secret', 'generic', 'db', '-n', NS, `--from-literal=password=${password}`]);
  // Created with apply: the last-applied annotation carries the whole Secret.
  await kubectlOk(['apply', '-n', NS, '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'applied' }, stringData: { token: appliedToken } }) });
  await kubectlOk(['create', 'configmap', 'plain', '-n', NS, '--from-literal=region=eu-west-1']);
  await kubectlOk(['create', 'configmap', 'settings', '-n', NS, `--from-literal=api-key=${apiKey}`, '--from-literal=region=eu-west-1']);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'ci', namespace: POLICY_NS },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'settings-masked', match: { resources: ['configmaps'], names: ['settings'], namespaces: [NS] }, action: 'Allow', mask: { fields: [".data['api-key']"] } },
        { name: 'app', match: { apiGroups: ['', 'apps'], namespaces: [NS] }, action: 'Allow' },
        { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
      ],
    },
  }) });
  gw = await startTestGateway({ name: 'e2e-wire', policyNamespace: POLICY_NS });
  ciToken = await gw.oidc.token(CI_CLIENT.clientId);
  ci = await gw.kubeconfigFor(ciToken, 'ci');
}, 120_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', NS, POLICY_NS, '--wait=false']);
});

describe('attack: Connection: Upgrade on requests the API server never upgrades', () => {
  it.each([
    ['a Secret GET over "websocket"', 'GET', `/api/v1/namespaces/${NS}/secrets/db`, 'websocket'],
    ['a Secret GET over SPDY', 'GET', `/api/v1/namespaces/${NS}/secrets/db`, 'SPDY/3.1'],
    ['a Secret GET over h2c', 'GET', `/api/v1/namespaces/${NS}/secrets/db`, 'h2c'],
    ['a Secret list', 'GET', `/api/v1/namespaces/${NS}/secrets`, 'websocket'],
    ['the Secret list of every namespace in the old /watch/ form over SPDY', 'GET', `/api/v1/watch/namespaces/${NS}/secrets`, 'SPDY/3.1'],
  ])('refuses %s, and no value leaves the gateway', async (_name, method, path, protocol) => {
    const answer = await rawRequest({ method, path, headers: { Connection: 'Upgrade', Upgrade: protocol } });
    expect(answer.status, answer.head).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    for (const form of [...forms(password), ...forms(appliedToken)]) expect(answer.body).not.toContain(form);
  });

  it('refuses a create sent with an upgrade, and nothing is created', async () => {
    const answer = await rawRequest({
      method: 'POST', path: `/api/v1/namespaces/${NS}/configmaps`, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'smuggled' } }),
    });
    expect(answer.status).toBe(400);
    expect((await kubectl(['get', 'configmap', 'smuggled', '-n', NS])).code).not.toBe(0);
    await stillServing();
  });

  it('refuses a WebSocket watch of Secrets (masked), and relays a WebSocket watch of ConfigMaps', async () => {
    const ws = { Connection: 'Upgrade', Upgrade: 'websocket', Origin: 'https://localhost', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64') };
    const secrets = await rawRequest({ path: `/api/v1/namespaces/${NS}/secrets?watch=true`, headers: ws });
    expect(secrets.status, secrets.head).toBe(406);
    expect(JSON.parse(secrets.body)).toMatchObject({ kind: 'Status', reason: 'NotAcceptable', message: expect.stringContaining('WebSocket') as string });
    const configmaps = await rawRequest({ path: `/api/v1/namespaces/${NS}/configmaps?watch=true&fieldSelector=metadata.name%3Dplain`, headers: ws });
    expect(configmaps.status, `${configmaps.head}\n${configmaps.body}`).toBe(101);
    expect(configmaps.body).toContain('"name":"plain"');
  });
});

describe('attack: Secrets through a watch of Tables', () => {
  const table = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
  it.each([
    ['with the whole object in each row (includeObject=Object)', 'includeObject=Object'],
    ['with the default metadata in each row (its last-applied annotation)', 'includeObject=Metadata'],
  ])('masks a watched Table %s', async (_name, include) => {
    const answer = await rawRequest({ path: `/api/v1/namespaces/${NS}/secrets?watch=1&timeoutSeconds=2&${include}`, headers: { Accept: table }, settleMs: 4000 });
    expect(answer.status, answer.head).toBe(200);
    expect(answer.body).toContain('"kind":"Table"');
    expect(answer.body).toContain('"name":"applied"');
    for (const form of [...forms(password), ...forms(appliedToken)]) expect(answer.body, form).not.toContain(form);
  });

  // What the raw requests above send is what kubectl's default output asks for: it still works.
  it('still serves kubectl get secrets --watch (Table watch events), showing no value', async () => {
    const result = await kubectl(['get', 'secrets', '--watch', '--output-watch-events', '--request-timeout=2s'], { kubeconfig: ci, namespace: NS });
    seen.push(result.stdout, result.stderr);
    expect(result.stdout).toContain('applied');
    for (const form of [...forms(password), ...forms(appliedToken)]) expect(result.stdout, form).not.toContain(form);
  });
});

describe('attack: writing a masked value back', () => {
  async function storedPassword(): Promise<string> {
    return Buffer.from(await kubectlOk(['get', 'secret', 'db', '-n', NS, '-o', 'jsonpath={.data.password}']), 'base64').toString();
  }

  it('refuses kubectl get -o yaml | kubectl replace of a Secret, naming the field, and the password survives', async () => {
    const shown = await kubectlOk(['get', 'secret', 'db', '-o', 'yaml'], { kubeconfig: ci, namespace: NS });
    expect(shown).toContain(MASKED_BASE64);
    const replaced = await kubectl(['replace', '-f', '-'], { kubeconfig: ci, namespace: NS, input: shown });
    seen.push(replaced.stdout, replaced.stderr);
    expect(replaced.code).not.toBe(0);
    expect(replaced.stderr).toContain('is invalid: data.password: Invalid value');
    expect(replaced.stderr).toContain('placeholder Airlock shows instead of a masked value');
    expect(await storedPassword()).toBe(password);
  });

  it.each([
    ['a merge patch', ['patch', 'secret', 'db', '--type=merge', '-p', JSON.stringify({ data: { password: MASKED_BASE64 } })]],
    ['a strategic merge patch of stringData', ['patch', 'secret', 'db', '-p', JSON.stringify({ stringData: { password: MASKED_TEXT } })]],
    ['a JSON patch', ['patch', 'secret', 'db', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/data/password', value: MASKED_BASE64 }])]],
  ])('refuses %s carrying the placeholder', async (_name, args) => {
    const result = await kubectl(args, { kubeconfig: ci, namespace: NS });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Invalid value');
    expect(await storedPassword()).toBe(password);
  });

  it('refuses a server-side apply of the masked Secret (YAML apply patch)', async () => {
    const shown = await kubectlOk(['get', 'secret', 'db', '-o', 'yaml'], { kubeconfig: ci, namespace: NS });
    const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { kubeconfig: ci, namespace: NS, input: shown });
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('Invalid value');
    expect(await storedPassword()).toBe(password);
  });

  it('refuses a ConfigMap read back with a policy-masked key, and lets an ordinary replace through', async () => {
    const shown = await kubectlOk(['get', 'configmap', 'settings', '-o', 'json'], { kubeconfig: ci, namespace: NS });
    expect(shown).toContain(MASKED_TEXT);
    const replaced = await kubectl(['replace', '-f', '-'], { kubeconfig: ci, namespace: NS, input: shown });
    expect(replaced.code).not.toBe(0);
    expect(replaced.stderr).toContain('data[api-key]: Invalid value');
    expect((await kubectlOk(['get', 'configmap', 'settings', '-n', NS, '-o', 'jsonpath={.data.api-key}'])).trim()).toBe(apiKey);
    const plain = await kubectlOk(['get', 'configmap', 'plain', '-o', 'json'], { kubeconfig: ci, namespace: NS });
    const edited = JSON.stringify({ ...(JSON.parse(plain) as object), data: { region: 'eu-west-1', tier: 'gold' } });
    const ok = await kubectl(['replace', '-f', '-'], { kubeconfig: ci, namespace: NS, input: edited });
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe('attack: identities that cannot be forwarded unchanged', () => {
  it('refuses a token whose subject ends in a no-break space with a 401 that says why, and keeps serving', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await gw.oidc.sign({ iss: gw.oidc.issuer, aud: gw.oidc.audience, sub: 'repo:acme/payments:ref:refs/heads/main\u00a0', iat: now, exp: now + 300, repository: 'acme/payments' });
    const answer = await rawRequest({ path: `/api/v1/namespaces/${NS}/configmaps`, token });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: expect.stringContaining('surrounding whitespace') as string });
    await stillServing();
  });

  it('refuses Impersonate-User with a trailing no-break space as a 400, and keeps serving', async () => {
    const nbsp = Buffer.from('deployer\u00a0', 'utf8').toString('latin1');
    const answer = await rawRequest({ path: `/api/v1/namespaces/${NS}/configmaps`, headers: { 'Impersonate-User': nbsp } });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    await stillServing();
  });
});

describe('what the attacks left behind', () => {
  it('leaked no value in any answer or audit record, and the gateway counted no unexpected error', async () => {
    const everything = [...seen, await readFile(gw.auditFile, 'utf8')].join('\n');
    for (const value of [password, appliedToken, apiKey]) {
      for (const form of forms(value)) expect(everything.includes(form), `found ${form}`).toBe(false);
    }
    const metrics = await (await fetch(`${gw.healthUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/^airlock_gateway_unexpected_errors_total\{[^}]*\} [1-9]/m);
  });
});
