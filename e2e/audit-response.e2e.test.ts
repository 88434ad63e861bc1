// Audit level RequestResponse through a real gateway, with real kubectl and a webhook receiver. The
// gateway's own level is Metadata; an AccessPolicy rule raises `get configmaps` in one namespace to
// RequestResponse, another raises everything in a second namespace. The records hold exactly the
// (masked) bytes the caller received where a rule applies, and no body elsewhere; a response over
// the cap is cut where the record says; a watch is recorded event by event up to the cap, then
// counted. A Secret's value never reaches the file or the webhook, whichever way a caller asks for
// it (JSON, Table, protobuf, metadata only, list, watch, a WebSocket watch). The file verifies.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';
import { buildGatewayClusterRole } from '../operator/resources/gateway-rbac.ts';
import { gatewayServiceAccountName } from '../core/gateway-names.ts';

const ID = randomBytes(3).toString('hex');
const NS = `e2e-rr-${ID}`;
const OTHER = `${NS}-other`;
const ALL_RR = `${NS}-all`;
const POLICY_NS = `${NS}-policy`;
const GATEWAY = { name: NS, namespace: 'airlock-system' };
const CAP = 4096;
const secretValue = `s-${randomBytes(12).toString('hex')}`;
const maskedValue = `m-${randomBytes(12).toString('hex')}`;

let gw: TestGateway;
let ci: string;
let ciToken: string;
let caPem: Buffer;
const webhook: { server?: Server; url: string; entries: string[] } = { url: '', entries: [] };

interface Record_ {
  kind: string; auditID: string; stage: string; level: string; verb: string; requestURI: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
  responseObject?: unknown;
  responseBody?: { bytes: number; sha256?: string; complete: boolean; head?: string; omitted?: string; truncated?: { atByte: number; limitBytes: number; atEvent?: number }; events?: { count: number; recorded: number; types: Record<string, number> } };
}

async function records(): Promise<Record_[]> {
  return (await readFile(gw.auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record_).filter((r) => r.kind === 'AuditRecord');
}

async function completeOf(auditID: string): Promise<Record_> {
  const found = (await records()).filter((r) => r.auditID === auditID && r.stage === 'ResponseComplete');
  expect(found, `one ResponseComplete record for ${auditID}`).toHaveLength(1);
  return found[0] as Record_;
}

/** A request through the gateway as a client sees it: status, audit id and the body bytes (chunking undone). */
function viaGateway(path: string, headers: Record<string, string> = {}): Promise<{ status: number; auditID: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { ca: caPem, headers: { authorization: `Bearer ${ciToken}`, accept: 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, auditID: String(res.headers['audit-id'] ?? ''), body: Buffer.concat(chunks) }); });
    });
    req.on('error', reject);
    req.end();
  });
}

/** An upgrade request's status line, read off a raw TLS socket. */
function upgradeStatus(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(gw.url);
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: caPem, servername: 'localhost' });
    socket.write([
      `GET ${path} HTTP/1.1`, `Host: ${url.host}`, `Authorization: Bearer ${ciToken}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Origin: https://localhost',
      'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, '', '',
    ].join('\r\n'));
    socket.once('data', (c: Buffer) => { socket.destroy(); resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(c.toString('latin1'))?.[1] ?? 0)); });
    socket.on('error', reject);
  });
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A value in every form a body could carry it. */
const forms = (value: string): string[] => [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url')];

beforeAll(async () => {
  webhook.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { webhook.entries.push(Buffer.concat(chunks).toString('utf8')); res.writeHead(204).end(); });
  });
  await new Promise<void>((resolve) => webhook.server?.listen(0, '127.0.0.1', resolve));
  webhook.url = `http://127.0.0.1:${(webhook.server.address() as AddressInfo).port}/audit`;
  await installCrds();
  for (const ns of [NS, OTHER, ALL_RR, POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  for (const ns of [NS, OTHER, ALL_RR]) {
    await kubectlOk(['create', 'rolebinding', 'ci-admin', '-n', ns, '--clusterrole=admin', `--user=oidc:${CI_CLIENT.clientId}`]);
    // Only NS's rule masks `connection`: elsewhere it is a plain value.
    await kubectlOk(['create', 'configmap', 'settings', '-n', ns, `--from-literal=connection=${ns === NS ? maskedValue : 'plain'}`, '--from-literal=colour=teal']);
    await kubectlOk(['create', 'configmap', 'big', '-n', ns, `--from-literal=blob=${'b'.repeat(3 * CAP)}`]);
    // Applied, so the value is also in the last-applied annotation a metadata-only read returns.
    await kubectlOk(['apply', '-n', ns, '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: secretValue } }) });
  }
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'ci', namespace: POLICY_NS },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'get-configmaps', match: { verbs: ['get'], resources: ['configmaps'], namespaces: [NS] }, action: 'Allow', auditLevel: 'RequestResponse', mask: { fields: ['.data.connection'] } },
        { name: 'everything-recorded', match: { namespaces: [ALL_RR] }, action: 'Allow', auditLevel: 'RequestResponse' },
        { name: 'app', match: { namespaces: [NS, OTHER] }, action: 'Allow' },
      ],
    },
  }) });
  gw = await startTestGateway({ name: GATEWAY.name, policyNamespace: POLICY_NS, auditLevel: 'Metadata', auditMaxResponseBodyBytes: CAP, auditWebhookUrl: webhook.url });
  caPem = await readFile(gw.caFile);
  ciToken = await gw.oidc.token(CI_CLIENT.clientId);
  ci = await gw.kubeconfigFor(ciToken, 'ci');
}, 180_000);

afterAll(async () => {
  await gw.stop();
  webhook.server?.closeAllConnections();
  await new Promise((resolve) => webhook.server?.close(resolve));
  await kubectl(['delete', 'namespace', NS, OTHER, ALL_RR, POLICY_NS, '--wait=false']);
  const gatewayRole = (buildGatewayClusterRole(GATEWAY) as { metadata: { name: string } }).metadata.name;
  await kubectl(['delete', 'clusterrole,clusterrolebinding', gatewayRole, '--ignore-not-found']);
  await kubectl(['delete', 'serviceaccount', gatewayServiceAccountName(GATEWAY), '-n', GATEWAY.namespace, '--ignore-not-found']);
});

describe('audit level RequestResponse from a policy rule', () => {
  it('records exactly the masked body kubectl received where the rule applies', async () => {
    const result = await kubectl(['get', 'configmap', 'settings', '-o', 'json', '--show-managed-fields'], { kubeconfig: ci, namespace: NS });
    expect(result.code, result.stderr).toBe(0);
    const got = JSON.parse(result.stdout) as { data: Record<string, string> };
    expect(got.data).toStrictEqual({ connection: '***MASKED***', colour: 'teal' });
    const record = (await records()).filter((r) => r.stage === 'ResponseComplete' && r.verb === 'get' && r.objectRef?.namespace === NS && r.objectRef.name === 'settings').at(-1);
    expect(record?.level).toBe('RequestResponse');
    expect(record?.responseObject).toStrictEqual(got);
    expect(record?.responseBody).toMatchObject({ complete: true, contentType: 'application/json' });
  });

  it('records the very bytes the caller received (size and SHA-256), and nothing on RequestReceived', async () => {
    const answer = await viaGateway(`/api/v1/namespaces/${NS}/configmaps/settings`);
    expect(answer.status).toBe(200);
    const record = await completeOf(answer.auditID);
    expect(record.responseObject).toStrictEqual(JSON.parse(answer.body.toString('utf8')));
    expect(record.responseBody).toMatchObject({ bytes: answer.body.length, sha256: sha256(answer.body) });
    const received = (await records()).find((r) => r.auditID === answer.auditID && r.stage === 'RequestReceived');
    expect(received).not.toHaveProperty('responseBody');
  });

  it.each([
    ['a get in another namespace', ['get', 'configmap', 'settings', '-o', 'json'], OTHER],
    ['a list in the rule\'s namespace (the rule is for get)', ['get', 'configmaps', '-o', 'json'], NS],
    ['a Table get in another namespace', ['get', 'configmap', 'settings'], OTHER],
  ])('records no body for %s: the gateway\'s level, Metadata', async (_name, args, namespace) => {
    const before = (await records()).length;
    const result = await kubectl(args, { kubeconfig: ci, namespace });
    expect(result.code, result.stderr).toBe(0);
    const fresh = (await records()).slice(before).filter((r) => r.objectRef?.resource === 'configmaps');
    expect(fresh.length).toBeGreaterThan(0);
    for (const record of fresh) {
      expect(record.level).toBe('Metadata');
      expect(record).not.toHaveProperty('responseObject');
      expect(record).not.toHaveProperty('responseBody');
    }
  });

  it('cuts a body over the cap where the record says, keeping its first bytes as text', async () => {
    const answer = await viaGateway(`/api/v1/namespaces/${NS}/configmaps/big`);
    expect(answer.body.length).toBeGreaterThan(CAP);
    const record = await completeOf(answer.auditID);
    expect(record).not.toHaveProperty('responseObject');
    expect(record.responseBody).toMatchObject({ bytes: answer.body.length, sha256: sha256(answer.body), complete: true, truncated: { atByte: CAP, limitBytes: CAP } });
    expect(record.responseBody?.head).toBe(answer.body.subarray(0, CAP).toString('utf8'));
    // kubectl gets the whole object all the same.
    expect((await kubectl(['get', 'configmap', 'big', '-o', 'jsonpath={.data.blob}'], { kubeconfig: ci, namespace: NS })).stdout).toHaveLength(3 * CAP);
  });

  it('decodes a protobuf answer into the JSON the API server writes', async () => {
    const answer = await viaGateway(`/api/v1/namespaces/${ALL_RR}/configmaps/settings`, { accept: 'application/vnd.kubernetes.protobuf' });
    expect(answer.body.subarray(0, 4).toString('latin1')).toBe('k8s\0');
    const record = await completeOf(answer.auditID);
    expect(record.responseObject).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'settings', namespace: ALL_RR }, data: { colour: 'teal' } });
    expect(record.responseBody).toMatchObject({ bytes: answer.body.length, sha256: sha256(answer.body) });
  });

  it('records a watch event by event up to the cap, then counts the rest by type', async () => {
    await kubectlOk(['apply', '-n', ALL_RR, '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: 6 }, (_, i) => ({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${String(i)}`, labels: { watched: 'w1' } }, data: { v: 'w'.repeat(1500) },
    })) }) });
    const answer = await viaGateway(`/api/v1/namespaces/${ALL_RR}/configmaps?watch=1&timeoutSeconds=2&labelSelector=watched%3Dw1`);
    const lines = answer.body.toString('utf8').split('\n').filter((l) => l !== '');
    expect(lines.length).toBe(6);
    const record = await completeOf(answer.auditID);
    const events = record.responseObject as unknown[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(lines.length);
    expect(events).toStrictEqual(lines.slice(0, events.length).map((l) => JSON.parse(l) as unknown));
    expect(record.responseBody).toMatchObject({
      bytes: answer.body.length, sha256: sha256(answer.body),
      events: { count: lines.length, recorded: events.length, types: { ADDED: lines.length } },
      truncated: { atEvent: events.length, limitBytes: CAP },
    });
  });

  it('refuses a WebSocket watch it would have to record (its frames go by unread), and relays one at Metadata', async () => {
    expect(await upgradeStatus(`/api/v1/namespaces/${ALL_RR}/configmaps?watch=true`)).toBe(406);
    expect(await upgradeStatus(`/api/v1/namespaces/${OTHER}/configmaps?watch=true`)).toBe(101);
  });

  it('keeps a record of a huge list to the cap', async () => {
    const answer = await viaGateway(`/api/v1/namespaces/${ALL_RR}/configmaps`);
    expect(answer.body.length).toBeGreaterThan(3 * CAP);
    const line = (await readFile(gw.auditFile, 'utf8')).split('\n').find((l) => l.includes(answer.auditID) && l.includes('ResponseComplete')) ?? '';
    expect(line.length).toBeLessThan(2 * CAP + 4096);
  });
});

describe('attack: a Secret value into the audit trail at RequestResponse', () => {
  const table = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
  const metadata = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json';
  it.each([
    ['a get', `/api/v1/namespaces/${ALL_RR}/secrets/db`, {}],
    ['a list', `/api/v1/namespaces/${ALL_RR}/secrets`, {}],
    ['a Table', `/api/v1/namespaces/${ALL_RR}/secrets`, { accept: table }],
    ['metadata only (the last-applied annotation)', `/api/v1/namespaces/${ALL_RR}/secrets`, { accept: metadata }],
    ['protobuf', `/api/v1/namespaces/${ALL_RR}/secrets/db`, { accept: 'application/vnd.kubernetes.protobuf,application/json' }],
    ['a watch', `/api/v1/namespaces/${ALL_RR}/secrets?watch=1&timeoutSeconds=1`, {}],
    ['a watch of Tables', `/api/v1/namespaces/${ALL_RR}/secrets?watch=1&timeoutSeconds=1`, { accept: table }],
    ['the old /watch/ path', `/api/v1/watch/namespaces/${ALL_RR}/secrets?timeoutSeconds=1`, {}],
  ])('%s: answered, but only "not recorded" is recorded', async (_name, path, headers) => {
    const answer = await viaGateway(path, headers);
    expect(answer.status, answer.body.toString()).toBe(200);
    const record = await completeOf(answer.auditID);
    expect(record.level).toBe('RequestResponse');
    expect(record).not.toHaveProperty('responseObject');
    expect(record.responseBody).toMatchObject({ omitted: 'the body of this resource is never recorded (credentials)' });
  });

  it('kubectl get, describe and get -w of the Secret leave no value anywhere', async () => {
    for (const args of [['get', 'secret', 'db', '-o', 'yaml'], ['get', 'secrets'], ['describe', 'secret', 'db'], ['get', 'secret', 'db', '-o', 'jsonpath={.metadata.annotations}']]) {
      expect((await kubectl(args, { kubeconfig: ci, namespace: ALL_RR })).code).toBe(0);
    }
    await kubectl(['get', 'secrets', '-w', '--request-timeout=2s'], { kubeconfig: ci, namespace: ALL_RR, timeoutMs: 10_000 });
    expect(await upgradeStatus(`/api/v1/namespaces/${ALL_RR}/secrets?watch=true`)).toBe(406);
  });

  it('no record, file or webhook batch holds the Secret\'s value; the masked ConfigMap value is nowhere either; the file verifies', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const trail = await readFile(gw.auditFile, 'utf8');
    const sent = webhook.entries.join('\n');
    expect(webhook.entries.length).toBeGreaterThan(0);
    expect(sent).toContain('"level":"RequestResponse"');
    for (const form of [...forms(secretValue), ...forms(maskedValue)]) {
      expect(trail).not.toContain(form);
      expect(sent).not.toContain(form);
    }
    const verified = await promisify(execFile)(process.execPath, ['gateway/audit/verify-cli.ts', gw.auditFile]);
    expect(verified.stdout).toMatch(/^ok: \d+ records/);
  });
});
