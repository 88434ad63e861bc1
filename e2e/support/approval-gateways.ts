// Two real gateways (`dev` and `prod`) in one namespace, with the shipped integrity policy bound
// to that namespace, the operator's ApprovalRequest controller running as the operator's own
// ServiceAccount, reviewers with client certificates, and a CI caller who may impersonate a
// deployer and an ops group: the actors an attacker of the approval flow would meet in a cluster.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { inject } from 'vitest';
import { parse, stringify } from 'yaml';
import { writeKubeconfig } from '../../hack/controlplane/index.ts';
import { startApprovalController } from '../../operator/controllers/manager.ts';
import type { Controller } from '../../core/runtime/controller.ts';
import { PEOPLE, adminServer, personKubeconfig, scopedIntegrityPolicy, waitForPolicy, type Person } from './approval-identities.ts';
import { installCrds } from './crds.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './gateway.ts';
import { kubectl, kubectlOk, testCluster, type KubectlResult } from './kubectl.ts';

export const PLUGINS = fileURLToPath(new URL('../../plugin/bin', import.meta.url));
export const CI_USER = `oidc:${CI_CLIENT.clientId}`;

export interface Rule {
  readonly name: string;
  readonly match: Record<string, unknown>;
  readonly action: 'Allow' | 'RequireApproval';
  readonly approval?: Record<string, unknown>;
}

export interface AttackSetup {
  /** Where both gateways, their ApprovalRequests and the operator's ServiceAccount live. */
  readonly namespace: string;
  /** Where the CI caller works: edit rights for the caller and for the ops group only. */
  readonly app: string;
  readonly deployer: string;
  readonly opsGroup: string;
  readonly dev: TestGateway;
  readonly prod: TestGateway;
  readonly people: Readonly<Record<Person, string>>;
  readonly dir: string;
  /** A kubeconfig for the CI caller through this gateway (a fresh OIDC token from its issuer). */
  ciKubeconfig(gw: TestGateway): Promise<string>;
  ciToken(gw: TestGateway): Promise<string>;
  /** kubectl as a reviewer, with the approval plugins on PATH. */
  as(person: Person, args: readonly string[]): Promise<KubectlResult>;
  /** A reviewer's approval written straight to the API server (no process to start): as fast as a tool can be. */
  approveNow(person: Person, name: string): Promise<void>;
  /** What the operator writes on an approval (phase, grant from its clock), as the operator, now. */
  operatorMarksApproved(name: string, grantMs: number): Promise<void>;
  cleanup(): Promise<void>;
}

const allow = (app: string): Rule[] => [
  { name: 'work', match: { apiGroups: ['', 'apps'], namespaces: [app] }, action: 'Allow' },
  { name: 'discovery', match: { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/version', '/openapi/*'] }, action: 'Allow' },
];

function policy(name: string, namespace: string, rules: readonly Rule[]): object {
  return {
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name, namespace },
    spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules },
  };
}

/** RBAC: reviewers may try to decide; the operator runs; CI may work in app and impersonate the deployer and ops. */
async function grantRbac(s: { namespace: string; app: string; deployer: string; opsGroup: string; suffix: string; people: Readonly<Record<Person, string>> }): Promise<string[]> {
  const rbac = 'rbac.authorization.k8s.io';
  const clusterWide = [`e2e-apr-attack-impersonate-${s.suffix}`];
  const items = [
    { apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name: 'reviewers', namespace: s.namespace },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'airlock-approvalrequest-approver' },
      subjects: (['alice', 'bob', 'carol', 'mallory'] as const).map((p) => ({ apiGroup: rbac, kind: 'User', name: s.people[p] })) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'airlock-operator', namespace: s.namespace } },
    { apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name: 'operator', namespace: s.namespace }, rules: [
      { apiGroups: ['airlock.dev'], resources: ['approvalrequests'], verbs: ['get', 'list', 'watch', 'delete'] },
      { apiGroups: ['airlock.dev'], resources: ['approvalrequests/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ] },
    { apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name: 'operator', namespace: s.namespace },
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'operator' }, subjects: [{ kind: 'ServiceAccount', name: 'airlock-operator', namespace: s.namespace }] },
    { apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name: 'ci-edit', namespace: s.app },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'edit' }, subjects: [{ apiGroup: rbac, kind: 'User', name: CI_USER }] },
    // The deployer alone may not change anything in app; the ops group may.
    { apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name: 'ops-edit', namespace: s.app },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'edit' }, subjects: [{ apiGroup: rbac, kind: 'Group', name: s.opsGroup }] },
    { apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: clusterWide[0] }, rules: [
      { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: [s.deployer] },
      { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: [s.opsGroup] },
    ] },
    { apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: { name: clusterWide[0] },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: clusterWide[0] }, subjects: [{ apiGroup: rbac, kind: 'User', name: CI_USER }] },
  ];
  await kubectlOk(['apply', '-f', 'config/rbac/approvalrequest_approver_role.yaml']);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items }) });
  return clusterWide;
}

/** The operator's ApprovalRequest controller, in process, as the operator's ServiceAccount, for this namespace only. */
async function startOperator(namespace: string, server: string): Promise<{ controller: Controller; token: string }> {
  const token = (await kubectlOk(['create', 'token', 'airlock-operator', '-n', namespace, '--duration=1h'])).trim();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server, caData: readFileSync(join(inject('clusterDir'), 'pki', 'ca.crt')).toString('base64') }],
    users: [{ name: 'operator', token }],
    contexts: [{ name: 'operator', cluster: 'local', user: 'operator', namespace }],
    currentContext: 'operator',
  });
  const controller = startApprovalController({ kubeConfig: kc, log: pino({ level: 'silent' }), retentionMs: 3_600_000, namespace, resyncMs: 60_000 });
  await controller.waitForSync();
  return { controller, token };
}

export interface AttackPolicies {
  readonly dev: readonly Rule[];
  readonly prod: readonly Rule[];
}

export async function setUpAttack(prefix: string, rules: (s: { app: string; people: Readonly<Record<Person, string>> }) => AttackPolicies): Promise<AttackSetup> {
  await installCrds();
  const suffix = randomBytes(3).toString('hex');
  const namespace = `${prefix}-${suffix}`;
  const app = `${prefix}-app-${suffix}`;
  const policyNs = { dev: `${prefix}-pol-dev-${suffix}`, prod: `${prefix}-pol-prod-${suffix}` };
  const dir = await mkdtemp(join(tmpdir(), `airlock-${prefix}-`));
  const server = await adminServer();
  const deployer = `e2e-deployer-${suffix}`;
  const opsGroup = `e2e-ops-${suffix}`;
  for (const ns of [namespace, app, policyNs.dev, policyNs.prod]) await kubectlOk(['create', 'namespace', ns]);
  const admission = await scopedIntegrityPolicy(namespace, namespace);
  const people: Record<Person, string> = { alice: '', bob: '', carol: '', dave: '', eve: '', mallory: '' };
  const kubeconfigs: Partial<Record<Person, string>> = {};
  for (const person of ['alice', 'bob', 'carol', 'mallory'] as const) {
    kubeconfigs[person] = await personKubeconfig({ dir, server, namespace, person });
    people[person] = PEOPLE[person].user;
  }
  const clusterWide = await grantRbac({ namespace, app, deployer, opsGroup, suffix, people });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items: admission }) });
  await waitForPolicy(namespace, testCluster().kubeconfig);
  const policies = rules({ app, people });
  await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items: [
    policy('dev', policyNs.dev, [...policies.dev, ...allow(app)]), policy('prod', policyNs.prod, [...policies.prod, ...allow(app)]),
  ] }) });
  // dev holds at most two requests per caller at once (approvals.maxHeldPerCaller).
  const dev = await startTestGateway({ name: 'dev', namespace, policyNamespace: policyNs.dev, maxHeldApprovalsPerCaller: 2 });
  const prod = await startTestGateway({ name: 'prod', namespace, policyNamespace: policyNs.prod });
  const operator = await startOperator(namespace, server);
  const operatorCredentials: Credentials = { server: new URL(server), ca: readFileSync(join(inject('clusterDir'), 'pki', 'ca.crt')), token: operator.token };
  const ciToken = (gw: TestGateway): Promise<string> => gw.oidc.token(CI_CLIENT.clientId);
  return {
    namespace, app, deployer, opsGroup, dev, prod, people, dir,
    ciToken,
    ciKubeconfig: async (gw) => gw.kubeconfigFor(await ciToken(gw), `ci-${gw === dev ? 'dev' : 'prod'}`),
    as: (person, args) => kubectl(args, { kubeconfig: kubeconfigs[person] ?? '', env: { PATH: `${PLUGINS}:/usr/bin:/bin` } }),
    approveNow: async (person, name) => {
      const path = `/apis/airlock.dev/v1alpha1/namespaces/${namespace}/approvalrequests/${name}`;
      const credentials = await personCredentials(kubeconfigs[person] ?? '');
      const current = JSON.parse((await apiCall(credentials, { method: 'GET', path })).body) as StoredRequest & { metadata: { resourceVersion: string } };
      const decisions = [...(current.status?.decisions ?? []), { decision: 'Approve', by: people[person], reason: 'at once', at: iso(Date.now()) }];
      const answer = await apiCall(credentials, {
        method: 'PATCH', path: `${path}/status`, contentType: 'application/merge-patch+json',
        body: JSON.stringify({ metadata: { resourceVersion: current.metadata.resourceVersion }, status: { decisions } }),
      });
      if (answer.code !== 200) throw new Error(`${people[person]} could not approve ${name}: ${answer.code} ${answer.body}`);
    },
    operatorMarksApproved: async (name, grantMs) => {
      const now = Date.now();
      await apiCall(operatorCredentials, {
        method: 'PATCH', path: `/apis/airlock.dev/v1alpha1/namespaces/${namespace}/approvalrequests/${name}/status`, contentType: 'application/merge-patch+json',
        body: JSON.stringify({ status: { phase: 'Approved', grant: { notBefore: iso(now), notAfter: iso(now + grantMs) } } }),
      });
    },
    cleanup: async () => {
      await operator.controller.stop();
      await dev.stop();
      await prod.stop();
      for (const doc of [...admission].reverse()) await kubectl(['delete', '--ignore-not-found', doc.kind, doc.metadata.name]);
      for (const name of clusterWide) await kubectl(['delete', '--ignore-not-found', 'clusterrolebinding,clusterrole', name]);
      for (const gw of ['dev', 'prod']) await kubectl(['delete', '--ignore-not-found', 'clusterrolebinding,clusterrole', `airlock-gateway-${namespace}-${gw}`]);
      await kubectl(['delete', 'namespace', namespace, app, policyNs.dev, policyNs.prod, '--wait=false']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  readonly code: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** One raw HTTPS request to a gateway with a bearer token: the exact method, content type and body an attacker chooses. */
export function send(gw: TestGateway, token: string, call: { method: string; path: string; contentType?: string; body?: string; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Answer> {
  const url = new URL(gw.url);
  const payload = call.body === undefined ? undefined : Buffer.from(call.body);
  return new Promise((resolve, reject) => {
    const req = request({
      hostname: url.hostname, port: url.port, path: call.path, method: call.method, ca: readFileSync(gw.caFile),
      ...(call.signal === undefined ? {} : { signal: call.signal }),
      headers: {
        authorization: `Bearer ${token}`, accept: 'application/json', ...call.headers,
        ...(call.contentType === undefined ? {} : { 'content-type': call.contentType }),
        ...(payload === undefined ? {} : { 'content-length': String(payload.length) }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface StoredRequest {
  readonly metadata: { readonly name: string; readonly creationTimestamp: string; readonly labels?: Record<string, string> };
  readonly spec: {
    readonly gateway: string;
    readonly requester: { readonly caller: { readonly username: string }; readonly effective?: { readonly username: string; readonly groups?: string[] } };
    readonly request: { readonly summary: string; readonly fingerprint: string; readonly name?: string; readonly changes?: { path: string; value?: string; op?: string }[] };
  };
  readonly status?: { readonly phase?: string; readonly decisions?: { by: string; at: string }[]; readonly grant?: { notBefore: string; notAfter: string } };
}

export async function storedRequests(namespace: string): Promise<StoredRequest[]> {
  return (JSON.parse(await kubectlOk(['get', 'approvalrequests', '-n', namespace, '-o', 'json'])) as { items: StoredRequest[] }).items;
}

/** The request named in a gateway's 403 (details.name), as stored. */
export async function heldBy(answer: Answer | KubectlResult, namespace: string): Promise<StoredRequest> {
  const text = 'body' in answer ? answer.body : answer.stderr;
  const name = 'body' in answer
    ? (JSON.parse(text) as { details?: { name?: string } }).details?.name
    : /kubectl approve (\S+) -n/.exec(text)?.[1];
  if (name === undefined) throw new Error(`no ApprovalRequest named in: ${text}`);
  return JSON.parse(await kubectlOk(['get', 'approvalrequest', name, '-n', namespace, '-o', 'json'])) as StoredRequest;
}

export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A reviewer's decision written with kubectl alone, `at` chosen by the reviewer. */
export async function decideWithKubectl(setup: AttackSetup, person: Person, name: string, at: string): Promise<KubectlResult> {
  const current = JSON.parse(await kubectlOk(['get', 'approvalrequest', name, '-n', setup.namespace, '-o', 'json'])) as StoredRequest;
  const decisions = [...(current.status?.decisions ?? []), { decision: 'Approve', by: setup.people[person], reason: 'looks fine', at }];
  return setup.as(person, ['patch', 'approvalrequest', name, '-n', setup.namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { decisions } })]);
}

/** A kubeconfig with this gateway's own ServiceAccount token, straight at the API server: what a stolen gateway credential can do. */
export async function gatewayCredential(gw: TestGateway, namespace: string): Promise<string> {
  const token = (await readFile(join(gw.dir, 'token'), 'utf8')).trim();
  return writeKubeconfig(join(gw.dir, 'sa-direct.kubeconfig'), { server: await adminServer(), caCertFile: gw.caFile, user: 'gateway-sa', token, namespace });
}

interface Credentials { readonly server: URL; readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer; readonly token?: string }

async function personCredentials(kubeconfig: string): Promise<Credentials> {
  const config = parse(await readFile(kubeconfig, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const [cluster, user] = [config.clusters[0]?.cluster, config.users[0]?.user];
  if (cluster === undefined || user === undefined) throw new Error(`${kubeconfig} names no cluster or user`);
  const b = (text: string): Buffer => Buffer.from(text, 'base64');
  return { server: new URL(cluster.server), ca: b(cluster['certificate-authority-data']), cert: b(user['client-certificate-data']), key: b(user['client-key-data']) };
}

function apiCall(c: Credentials, call: { method: string; path: string; contentType?: string; body?: string }): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      hostname: c.server.hostname, port: c.server.port, path: call.path, method: call.method, ca: c.ca,
      ...(c.cert === undefined || c.key === undefined ? {} : { cert: c.cert, key: c.key }),
      headers: {
        accept: 'application/json', ...(c.token === undefined ? {} : { authorization: `Bearer ${c.token}` }),
        ...(call.contentType === undefined ? {} : { 'content-type': call.contentType }),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => { resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(call.body);
  });
}
