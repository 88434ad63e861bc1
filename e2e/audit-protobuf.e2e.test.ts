// Audit level Request records kubectl's own writes, which kubectl sends as protobuf. Through a real
// gateway, real kubectl runs each write command as a server dry run; the body the gateway recorded
// is then sent to the API server as JSON (same path, same dry run and field manager): the API
// server must answer exactly what it answered kubectl, so the record says what the API server
// understood. A policy mask on a ConfigMap key applies to a protobuf create; Secrets and token
// requests are never recorded; a body the decoder cannot read is kept as its size and digest with
// the reason. Separately, objects of every kind the API server stores are read in protobuf and in
// JSON: the decoder must write exactly what the API server writes.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { apiServerRequest } from './support/api-server.ts';
import { CI_CLIENT, startTestGateway, type TestGateway } from './support/gateway.ts';
import { createProtobufBodyDecoder } from '../gateway/audit/protobuf/decode-body.ts';
import { kubernetesBody, ProtoWriter } from '../gateway/audit/protobuf/test-support/proto-writer.ts';
import { buildGatewayClusterRole } from '../operator/resources/gateway-rbac.ts';
import { gatewayServiceAccountName } from '../core/gateway-names.ts';

const NS = `e2e-proto-${randomBytes(3).toString('hex')}`;
const POLICY_NS = `${NS}-policy`;
const CLUSTER_ROLE = `${NS}-cluster-writer`;
const GATEWAY = { name: NS, namespace: 'airlock-system' };
const secretValue = `s-${randomBytes(12).toString('hex')}`;
const maskedValue = `m-${randomBytes(12).toString('hex')}`;
let gw: TestGateway;
let ci: string;
let ciToken: string;
let binaryFile: string;
let caPem: Buffer;

type AuditRecord = Record<string, unknown> & { requestObject?: unknown; requestURI?: string; stage?: string; verb?: string; objectRef?: { resource?: string } };

async function auditRecords(): Promise<AuditRecord[]> {
  const text = await readFile(gw.auditFile, 'utf8');
  return text.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditRecord);
}

/** The RequestReceived record of the create of `name` in `resource`. */
async function recordOfCreate(resource: string, name: string): Promise<AuditRecord> {
  const found = (await auditRecords()).filter((r) => r.stage === 'RequestReceived' && r.verb === 'create' && r.objectRef?.resource === resource
    && (r.requestObject as { metadata?: { name?: string } } | undefined)?.metadata?.name === name);
  expect(found, `one audit record of the create of ${resource} ${name}`).toHaveLength(1);
  return found[0] ?? {};
}

/** kubectl's arguments with flags added before a `--` (after it they are the container's). */
function withFlags(command: readonly string[], flags: readonly string[]): string[] {
  const dashes = command.indexOf('--');
  return dashes === -1 ? [...command, ...flags] : [...command.slice(0, dashes), ...flags, ...command.slice(dashes)];
}

/** An echo without what the API server makes up per request: uid (and labels made of it), times, allocated IPs and ports. */
function comparable(echo: unknown): unknown {
  const uid = (echo as { metadata?: { uid?: string } }).metadata?.uid;
  const object = JSON.parse(uid === undefined ? JSON.stringify(echo) : JSON.stringify(echo).replaceAll(uid, '<uid>')) as {
    metadata: { creationTimestamp?: string; managedFields?: { time?: string }[] }; spec?: { clusterIP?: string; clusterIPs?: string[]; ports?: { nodePort?: number }[] };
  };
  delete object.metadata.creationTimestamp;
  for (const entry of object.metadata.managedFields ?? []) delete entry.time;
  if (object.spec !== undefined) {
    delete object.spec.clusterIP;
    delete object.spec.clusterIPs;
    for (const port of object.spec.ports ?? []) delete port.nodePort;
  }
  return object;
}

function viaGateway(method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method, ca: caPem, headers: { authorization: `Bearer ${ciToken}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
    });
    req.on('error', reject);
    req.end(body);
  });
}


beforeAll(async () => {
  await installCrds();
  for (const ns of [NS, POLICY_NS]) await kubectlOk(['create', 'namespace', ns]);
  const user = `oidc:${CI_CLIENT.clientId}`;
  await kubectlOk(['create', 'rolebinding', 'ci-admin', '-n', NS, '--clusterrole=admin', `--user=${user}`]);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({ apiVersion: 'v1', kind: 'List', items: [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: CLUSTER_ROLE }, rules: [
      { apiGroups: [''], resources: ['namespaces', 'resourcequotas'], verbs: ['create'] },
      { apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: ['create'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'clusterrolebindings'], verbs: ['create'] },
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['view'] },
    ] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: CLUSTER_ROLE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }] },
  ] }) });
  // Objects commands refer to (autoscale, create job --from, a role binding's role).
  await kubectlOk(['create', 'role', 'source-reader', '-n', NS, '--verb=get', '--resource=pods']);
  await kubectlOk(['create', 'deployment', 'source', '-n', NS, '--image=nginx:1.27']);
  await kubectlOk(['create', 'cronjob', 'source', '-n', NS, '--image=busybox:1.36', '--schedule=0 0 * * *']);
  await kubectlOk(['rollout', 'status', 'deployment/source', '-n', NS, '--timeout=90s']);
  await kubectlOk(['apply', '-f', '-'], { input: stringify({
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'ci', namespace: POLICY_NS },
    spec: {
      subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }],
      rules: [
        { name: 'configmaps-masked', match: { resources: ['configmaps'], namespaces: [NS] }, action: 'Allow', mask: { fields: ['.data.connection'] } },
        { name: 'app', match: { namespaces: [NS] }, action: 'Allow' },
        { name: 'cluster', match: { resources: ['namespaces', 'priorityclasses', 'clusterroles', 'clusterrolebindings', 'selfsubjectaccessreviews'] }, action: 'Allow' },
      ],
    },
  }) });
  gw = await startTestGateway({ name: GATEWAY.name, policyNamespace: POLICY_NS, auditLevel: 'Request' });
  caPem = await readFile(gw.caFile);
  ciToken = await gw.oidc.token(CI_CLIENT.clientId);
  ci = await gw.kubeconfigFor(ciToken, 'ci');
  binaryFile = join(await mkdtemp(join(tmpdir(), 'e2e-proto-')), 'blob.bin');
  await writeFile(binaryFile, Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]));
}, 180_000);

afterAll(async () => {
  await gw.stop();
  await kubectl(['delete', 'namespace', NS, POLICY_NS, '--wait=false']);
  await kubectl(['delete', 'namespace', `${NS}-extra`, '--wait=false', '--ignore-not-found']);
  await kubectl(['delete', 'priorityclass', `${NS}-high`, '--ignore-not-found']);
  await kubectl(['delete', 'clusterrole', CLUSTER_ROLE, `${NS}-health`, '--ignore-not-found']);
  await kubectl(['delete', 'clusterrolebinding', CLUSTER_ROLE, `${NS}-view`, '--ignore-not-found']);
  // What startTestGateway set up for this gateway's own identity.
  const gatewayRole = (buildGatewayClusterRole(GATEWAY) as { metadata: { name: string } }).metadata.name;
  await kubectl(['delete', 'clusterrole,clusterrolebinding', gatewayRole, '--ignore-not-found']);
  await kubectl(['delete', 'serviceaccount', gatewayServiceAccountName(GATEWAY), '-n', GATEWAY.namespace, '--ignore-not-found']);
});

// Every write kubectl sends as protobuf: its `create` generators and autoscale.
const WRITES: readonly { readonly args: readonly string[]; readonly resource: string; readonly name: string }[] = [
  { args: ['create', 'configmap', 'settings', '--from-literal=region=eu-west-1', '--from-file=blob=BINARY'], resource: 'configmaps', name: 'settings' },
  { args: ['create', 'deployment', 'web', '--image=nginx:1.27', '--image=busybox:1.36', '--replicas=3', '--port=8080'], resource: 'deployments', name: 'web' },
  { args: ['create', 'job', 'once', '--image=busybox:1.36', '--', 'echo', 'hi'], resource: 'jobs', name: 'once' },
  { args: ['create', 'job', 'from-cron', '--from=cronjob/source'], resource: 'jobs', name: 'from-cron' },
  { args: ['create', 'cronjob', 'tick', '--image=busybox:1.36', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'], resource: 'cronjobs', name: 'tick' },
  { args: ['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '--tcp=443:8443'], resource: 'services', name: 'api' },
  { args: ['create', 'service', 'nodeport', 'edge', '--tcp=80:8080'], resource: 'services', name: 'edge' },
  { args: ['create', 'role', 'reader', '--verb=get,list,watch', '--resource=pods,configmaps'], resource: 'roles', name: 'reader' },
  { args: ['create', 'rolebinding', 'readers', '--role=source-reader', '--user=alice', '--group=devs', `--serviceaccount=${NS}:builder`], resource: 'rolebindings', name: 'readers' },
  { args: ['create', 'serviceaccount', 'builder'], resource: 'serviceaccounts', name: 'builder' },
  { args: ['create', 'namespace', `${NS}-extra`], resource: 'namespaces', name: `${NS}-extra` },
  { args: ['create', 'priorityclass', `${NS}-high`, '--value=1000', '--description=e2e', '--preemption-policy=Never'], resource: 'priorityclasses', name: `${NS}-high` },
  { args: ['create', 'clusterrole', `${NS}-health`, '--verb=get', '--non-resource-url=/healthz'], resource: 'clusterroles', name: `${NS}-health` },
  { args: ['create', 'clusterrolebinding', `${NS}-view`, '--clusterrole=view', '--user=bob'], resource: 'clusterrolebindings', name: `${NS}-view` },
  { args: ['create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=50%'], resource: 'poddisruptionbudgets', name: 'web' },
  { args: ['create', 'ingress', 'web', '--class=nginx', '--rule=example.com/api*=api:80,tls=web-tls', '--annotation=team=payments'], resource: 'ingresses', name: 'web' },
  { args: ['create', 'quota', 'limits', '--hard=cpu=1500m,memory=2Gi,pods=10'], resource: 'resourcequotas', name: 'limits' },
  { args: ['autoscale', 'deployment', 'source', '--min=2', '--max=5', '--cpu=80'], resource: 'horizontalpodautoscalers', name: 'source' },
];

describe('audit level Request: kubectl\'s protobuf writes', () => {
  it.each(WRITES.map((w) => [w.args.slice(0, 3).join(' '), w] as const))('kubectl %s: the record holds the body the API server understood', async (_name, write) => {
    const args = write.args.map((a) => a.replace('BINARY', binaryFile));
    const result = await kubectl(withFlags(args, ['--dry-run=server', '-o', 'json', '--show-managed-fields']), { kubeconfig: ci, namespace: NS });
    expect(result.code, result.stderr).toBe(0);
    const record = await recordOfCreate(write.resource, write.name);
    expect(record.requestObject).not.toHaveProperty('omitted');
    // The recorded body, as JSON, through the same endpoint and dry run: the same object comes back.
    const replay = await apiServerRequest('POST', record.requestURI ?? '', {
      headers: { 'content-type': 'application/json', accept: 'application/json' }, body: Buffer.from(JSON.stringify(record.requestObject)),
    });
    expect(replay.status, replay.body.toString()).toBe(201);
    expect(comparable(JSON.parse(replay.body.toString('utf8')))).toStrictEqual(comparable(JSON.parse(result.stdout)));
  });

  it('kubectl auth can-i: the SelfSubjectAccessReview it sent', async () => {
    await kubectl(['auth', 'can-i', 'delete', 'pods'], { kubeconfig: ci, namespace: NS });
    const record = (await auditRecords()).filter((r) => r.stage === 'RequestReceived' && r.objectRef?.resource === 'selfsubjectaccessreviews').at(-1);
    expect(record?.requestObject).toStrictEqual({
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
      spec: { resourceAttributes: { namespace: NS, verb: 'delete', resource: 'pods' } }, status: { allowed: false },
    });
  });

  it('masks a ConfigMap key a policy masks in the recorded body of kubectl create configmap --from-literal', async () => {
    const result = await kubectl(['create', 'configmap', 'credentials', `--from-literal=connection=${maskedValue}`, '--from-literal=colour=teal'], { kubeconfig: ci, namespace: NS });
    expect(result.code, result.stderr).toBe(0);
    const record = await recordOfCreate('configmaps', 'credentials');
    expect(record.requestObject).toMatchObject({ kind: 'ConfigMap', data: { connection: '***MASKED***', colour: 'teal' } });
    const trail = await readFile(gw.auditFile, 'utf8');
    for (const form of [maskedValue, Buffer.from(maskedValue).toString('base64')]) expect(trail).not.toContain(form);
    // The body was forwarded as sent: the API server stored the real value.
    expect((await kubectlOk(['get', 'configmap', 'credentials', '-n', NS, '-o', 'jsonpath={.data.connection}']))).toBe(maskedValue);
  });

  it('never records a Secret or a token request, though both arrive as protobuf', async () => {
    expect((await kubectl(['create', 'secret', 'generic', 'db', `--from-literal=password=${secretValue}`], { kubeconfig: ci, namespace: NS })).code).toBe(0);
    expect((await kubectl(['create', 'token', 'default'], { kubeconfig: ci, namespace: NS })).code).toBe(0);
    const records = (await auditRecords()).filter((r) => r.verb === 'create' && ['secrets', 'serviceaccounts'].includes(r.objectRef?.resource ?? ''));
    const secret = records.find((r) => r.objectRef?.resource === 'secrets');
    const token = records.find((r) => (r.objectRef as { subresource?: string } | undefined)?.subresource === 'token');
    expect(secret).toBeDefined();
    expect(token).toBeDefined();
    expect(secret?.requestObject).toBeUndefined();
    expect(token?.requestObject).toBeUndefined();
    const trail = await readFile(gw.auditFile, 'utf8');
    for (const form of [secretValue, Buffer.from(secretValue).toString('base64')]) expect(trail).not.toContain(form);
  });

  it.each([
    { name: 'a custom resource\'s kind', type: 'application/vnd.kubernetes.protobuf', body: kubernetesBody('example.com/v1', 'Widget', new ProtoWriter().bytes(1, new ProtoWriter().bytes(1, 'w'))), reason: /^the protobuf body is not decoded: the decoder has no schema for "example.com\/v1" kind "Widget"/ },
    { name: 'truncated bytes', type: 'application/vnd.kubernetes.protobuf', body: kubernetesBody('v1', 'ConfigMap', new ProtoWriter().bytes(1, new ProtoWriter().bytes(1, 'cut'))).subarray(0, -2), reason: /^the protobuf body is not decoded: a length runs past the end/ },
    { name: 'CBOR', type: 'application/cbor', body: Buffer.from([0xd9, 0xd9, 0xf7, 0xa1, 0x64, 0x6b, 0x69, 0x6e, 0x64, 0x69, 0x43, 0x6f, 0x6e, 0x66, 0x69, 0x67, 0x4d, 0x61, 0x70]), reason: /^content type application\/cbor is not recorded$/ },
  ])('keeps $name as size and digest, with the reason', async ({ type, body, reason }) => {
    const marker = randomBytes(4).toString('hex');
    await viaGateway('POST', `/api/v1/namespaces/${NS}/configmaps?fieldManager=${marker}`, { 'content-type': type }, body);
    const record = (await auditRecords()).find((r) => r.stage === 'RequestReceived' && (r.requestURI ?? '').includes(marker));
    expect(record?.requestObject).toStrictEqual({ omitted: expect.stringMatching(reason) as unknown, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it.each([
    { name: 'a JSON body with a number beyond any float (1e400)', type: 'application/json', body: Buffer.from(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge-json"},"data":{"n":1e400}}`) },
    { name: 'a YAML body with .inf', type: 'application/apply-patch+yaml', body: Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge-yaml\ndata:\n  n: .inf\n') },
    { name: 'a protobuf body whose RawExtension holds 1e400', type: 'application/vnd.kubernetes.protobuf', body: kubernetesBody('apps/v1', 'ControllerRevision', new ProtoWriter().bytes(1, new ProtoWriter().bytes(1, 'huge-raw')).bytes(2, new ProtoWriter().bytes(1, '{"n":1e400}')).number(3, 1)) },
  ])('keeps $name as its digest, and the API server answers the request', async ({ type, body }) => {
    const marker = randomBytes(4).toString('hex');
    const resource = type.includes('protobuf') ? `/apis/apps/v1/namespaces/${NS}/controllerrevisions` : `/api/v1/namespaces/${NS}/configmaps`;
    const path = type.includes('yaml') ? `${resource}/huge-yaml?fieldManager=${marker}` : `${resource}?fieldManager=${marker}`;
    const answer = await viaGateway(type.includes('yaml') ? 'PATCH' : 'POST', path, { 'content-type': type }, body);
    // The API server's own answer (it refuses the value), not the gateway's audit failure (503).
    expect(answer.body).toMatch(/"kind":"Status"/);
    expect(answer.body).not.toContain('the audit log is unavailable');
    expect(answer.status, answer.body).toBeGreaterThanOrEqual(400);
    expect(answer.status, answer.body).toBeLessThan(500);
    const record = (await auditRecords()).find((r) => r.stage === 'RequestReceived' && (r.requestURI ?? '').includes(marker));
    expect(record?.requestObject).toStrictEqual({ omitted: expect.stringMatching(/number JSON cannot carry/) as unknown, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('recognises the protobuf content type however it is spelt, so masking still applies', async () => {
    const value = `u-${randomBytes(8).toString('hex')}`;
    const body = kubernetesBody('v1', 'ConfigMap', new ProtoWriter().bytes(1, new ProtoWriter().bytes(1, 'shouting')).bytes(2, new ProtoWriter().bytes(1, 'connection').bytes(2, value)));
    const answer = await viaGateway('POST', `/api/v1/namespaces/${NS}/configmaps`, { 'content-type': 'Application/Vnd.Kubernetes.Protobuf; charset=binary' }, body);
    expect(answer.status, answer.body).toBe(201);
    expect((await recordOfCreate('configmaps', 'shouting')).requestObject).toMatchObject({ data: { connection: '***MASKED***' } });
    expect(await readFile(gw.auditFile, 'utf8')).not.toContain(value);
  });
});

describe('the decoder against the objects the API server stores', () => {
  const decode = createProtobufBodyDecoder();

  type Item = { metadata?: { uid?: string; resourceVersion?: string } };
  type List = { metadata?: { resourceVersion?: string }; items?: Item[] };

  /**
   * A list in both forms, compared item by item: other tests share the cluster, so an item may
   * change between the two reads; those (a different resourceVersion) are left out.
   */
  async function compareList(path: string): Promise<number> {
    const protobuf = await apiServerRequest('GET', path, { headers: { accept: 'application/vnd.kubernetes.protobuf' } });
    const json = await apiServerRequest('GET', path, { headers: { accept: 'application/json' } });
    expect(protobuf.contentType).toBe('application/vnd.kubernetes.protobuf');
    const decoded = decode(protobuf.body) as List;
    const parsed = JSON.parse(json.body.toString('utf8')) as List;
    const envelope = (list: List): unknown => ({ ...list, items: undefined, metadata: { ...list.metadata, resourceVersion: undefined } });
    // An empty list is the one place the API server's JSON (items: []) says more than protobuf can.
    if ((parsed.items ?? []).length > 0) expect(envelope(decoded), path).toStrictEqual(envelope(parsed));
    const mine = new Map((decoded.items ?? []).map((item) => [item.metadata?.uid, item]));
    let compared = 0;
    for (const item of parsed.items ?? []) {
      const other = mine.get(item.metadata?.uid);
      if (other?.metadata?.resourceVersion !== item.metadata?.resourceVersion) continue;
      expect(other, `${path} ${item.metadata?.uid ?? ''}`).toStrictEqual(item);
      compared++;
    }
    return compared;
  }

  it('decodes every kind in the namespace and across the cluster to exactly the JSON the API server returns', async () => {
    // The objects of the dry runs above, for real, and what controllers make of them (ReplicaSets,
    // Pods with status from kwok, EndpointSlices, Events).
    for (const write of WRITES) await kubectlOk(withFlags(write.args.map((a) => a.replace('BINARY', binaryFile)), ['-n', NS]));
    await kubectlOk(['wait', '--for=condition=Complete', 'job/once', '-n', NS, '--timeout=90s']);
    const paths = [
      'api/v1/namespaces/NS/configmaps', 'api/v1/namespaces/NS/services', 'api/v1/namespaces/NS/serviceaccounts', 'api/v1/namespaces/NS/resourcequotas',
      'api/v1/namespaces/NS/pods', 'apis/apps/v1/namespaces/NS/deployments', 'apis/apps/v1/namespaces/NS/replicasets', 'apis/batch/v1/namespaces/NS/jobs',
      'apis/batch/v1/namespaces/NS/cronjobs', 'apis/rbac.authorization.k8s.io/v1/namespaces/NS/roles', 'apis/rbac.authorization.k8s.io/v1/namespaces/NS/rolebindings',
      'apis/policy/v1/namespaces/NS/poddisruptionbudgets', 'apis/networking.k8s.io/v1/namespaces/NS/ingresses', 'apis/autoscaling/v2/namespaces/NS/horizontalpodautoscalers',
      'apis/discovery.k8s.io/v1/namespaces/NS/endpointslices', 'apis/events.k8s.io/v1/namespaces/NS/events', 'api/v1/namespaces/NS/events',
      'api/v1/nodes', 'api/v1/namespaces', 'apis/rbac.authorization.k8s.io/v1/clusterroles', 'apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      'apis/scheduling.k8s.io/v1/priorityclasses', 'apis/flowcontrol.apiserver.k8s.io/v1/flowschemas', 'apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations',
      'apis/coordination.k8s.io/v1/leases', 'apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', 'apis/storage.k8s.io/v1/csinodes',
    ].map((p) => `/${p.replace('NS', NS)}`);
    let objects = 0;
    const compared: string[] = [];
    for (const path of paths) {
      const count = await compareList(path);
      objects += count;
      if (count > 0) compared.push(path.replace(NS, 'NS'));
    }
    expect(objects).toBeGreaterThan(100);
    // The kinds with the most special fields were there to compare: times, quantities, IntOrString, managedFields, status.
    expect(compared).toEqual(expect.arrayContaining([
      '/api/v1/namespaces/NS/pods', '/apis/apps/v1/namespaces/NS/replicasets', '/apis/batch/v1/namespaces/NS/jobs', '/api/v1/namespaces/NS/resourcequotas',
      '/apis/policy/v1/namespaces/NS/poddisruptionbudgets', '/apis/discovery.k8s.io/v1/namespaces/NS/endpointslices', '/apis/events.k8s.io/v1/namespaces/NS/events',
      '/api/v1/nodes', '/apis/coordination.k8s.io/v1/leases', '/apis/autoscaling/v2/namespaces/NS/horizontalpodautoscalers',
    ]));
  }, 180_000);
});
