// The operator process (node operator/main.ts, leader election on) against the real control plane:
// a sample AccessGateway becomes its ServiceAccount, config, Deployment, Services, PDB and cluster
// RBAC; kwok runs the pods so status reports the real Deployment; a replica change scales without a
// rollout and a config change rolls out once; the operator never writes the gateway's spec, labels
// or annotations; the upstream token is minted into the credential Secret and accepted by the API
// server; the serving certificate is issued for the Service names from the namespace CA and
// openssl verifies it; deleting the gateway removes everything it owned.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parse, stringify } from 'yaml';
import { installCrds } from './support/crds.ts';
import { kubectl, kubectlOk, testCluster } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';

const run = promisify(execFile);

interface Operator {
  readonly child: ChildProcess;
  readonly output: string[];
  healthPort(): number | undefined;
  metricsPort(): number | undefined;
}

function startOperator(namespace: string): Operator {
  const output: string[] = [];
  const child = spawn(process.execPath, ['operator/main.ts'], {
    env: {
      ...process.env,
      KUBECONFIG: testCluster().kubeconfig,
      POD_NAMESPACE: namespace,
      POD_NAME: 'operator-e2e',
      AIRLOCK_LEADER_ELECTION: 'true',
      AIRLOCK_HEALTH_ADDRESS: '127.0.0.1:0',
      AIRLOCK_METRICS_ADDRESS: '127.0.0.1:0',
      AIRLOCK_GATEWAY_IMAGE: 'airlock:e2e',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => { output.push(chunk.toString('utf8')); });
  child.stderr.on('data', (chunk: Buffer) => { output.push(chunk.toString('utf8')); });
  const started = (): { health?: number; metrics?: number } | undefined => {
    const line = output.join('').split('\n').find((l) => l.includes('"operator started"'));
    return line === undefined ? undefined : JSON.parse(line) as { health?: number; metrics?: number };
  };
  return { child, output, healthPort: () => started()?.health, metricsPort: () => started()?.metrics };
}

async function stopOperator(op: Operator): Promise<number | null> {
  if (op.child.exitCode !== null) return op.child.exitCode;
  const exited = new Promise<number | null>((resolve) => { op.child.once('exit', (code) => { resolve(code); }); });
  op.child.kill('SIGTERM');
  return exited;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Obj {
  metadata: {
    generation?: number; labels?: Record<string, string>; annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
    managedFields?: { manager: string; operation: string; subresource?: string; fieldsV1?: Record<string, unknown> }[];
  };
  spec?: Record<string, unknown> & { replicas?: number; template?: { metadata?: { annotations?: Record<string, string> } } };
  status?: Record<string, unknown> & { observedGeneration?: number; readyReplicas?: number; conditions?: { type: string; status: string; reason: string }[] };
  data?: Record<string, string>;
}

async function getObj(kind: string, name: string, namespace?: string): Promise<Obj | undefined> {
  const result = await kubectl(['get', kind, name, '-o', 'json', '--show-managed-fields'], namespace === undefined ? {} : { namespace });
  if (result.code !== 0) return undefined;
  return JSON.parse(result.stdout) as Obj;
}

const GATEWAY = 'ci-gateway';
const NAMESPACED = [
  ['serviceaccount', `airlock-gateway-${GATEWAY}`], ['configmap', `${GATEWAY}-config`], ['deployment', GATEWAY],
  ['service', GATEWAY], ['service', `${GATEWAY}-metrics`], ['poddisruptionbudget', GATEWAY], ['secret', `${GATEWAY}-credential`],
  ['secret', `${GATEWAY}-tls`],
] as const;

const gone = (kind: string, name: string, namespace?: string) => async (): Promise<true | undefined> =>
  (await getObj(kind, name, namespace)) === undefined ? true : undefined;

const condition = (obj: Obj | undefined, type: string): { status: string; reason: string } | undefined =>
  obj?.status?.conditions?.find((c) => c.type === type);

/** The gateway once its status describes its newest generation with `ready` ready pods and Ready=True. */
function readyGateway(namespace: string, ready: number) {
  return async (): Promise<Obj | undefined> => {
    const gw = await getObj('accessgateway', GATEWAY, namespace);
    const current = gw?.status?.observedGeneration === gw?.metadata.generation;
    return current && gw?.status?.readyReplicas === ready && condition(gw, 'Ready')?.status === 'True' ? gw : undefined;
  };
}

async function expectOwnedObjects(namespace: string, rbacName: string): Promise<string> {
  for (const [kind, name] of NAMESPACED) {
    const obj = await eventually(`${kind}/${name}`, () => getObj(kind, name, namespace));
    expect(obj.metadata.ownerReferences?.some((r) => r.kind === 'AccessGateway' && r.name === GATEWAY && r.controller === true), `${kind}/${name} owner`).toBe(true);
    const applied = obj.metadata.managedFields?.find((f) => f.manager === 'airlock-operator');
    expect(applied?.operation, `${kind}/${name} applied by the operator`).toBe('Apply');
  }
  const cm = await getObj('configmap', `${GATEWAY}-config`, namespace);
  expect(cm?.data?.['gateway.yaml']).toContain('Deny');
  const dep = await getObj('deployment', GATEWAY, namespace);
  expect(dep?.spec?.replicas).toBe(2);
  const checksum = dep?.spec?.template?.metadata?.annotations?.['airlock.dev/config-checksum'] ?? '';
  expect(checksum).toMatch(/\S{16,}/);
  await eventually('ClusterRole', () => getObj('clusterrole', rbacName));
  await eventually('ClusterRoleBinding', () => getObj('clusterrolebinding', rbacName));
  return checksum;
}

async function expectProbes(op: Operator): Promise<void> {
  const healthPort = await eventually('health port', () => Promise.resolve(op.healthPort()));
  expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
  const metrics = await (await fetch(`http://127.0.0.1:${op.metricsPort() ?? 0}/metrics`)).text();
  expect(metrics).toContain('airlock_operator_workqueue_adds_total{name="accessgateway"}');
  expect(metrics).toMatch(/^airlock_operator_credential_expiry_timestamp_seconds\{namespace="[^"]+",gateway="ci-gateway"\} \d{10}/m);
  expect(metrics).toMatch(/^airlock_operator_certificate_expiry_timestamp_seconds\{namespace="[^"]+",gateway="ci-gateway",certificate="serving"\} \d{10}/m);
  expect(metrics).toMatch(/^airlock_operator_certificate_expiry_timestamp_seconds\{namespace="[^"]+",gateway="ci-gateway",certificate="ca"\} \d{10}/m);
}

async function replicaSets(namespace: string): Promise<number> {
  const list = JSON.parse(await kubectlOk(['get', 'replicasets', '-o', 'json', '-l', `app.kubernetes.io/instance=${GATEWAY}`], { namespace })) as { items: unknown[] };
  return list.items.length;
}

/** A bound token for the gateway's ServiceAccount in its credential Secret, accepted by the API server. */
async function expectCredential(namespace: string, gw: Obj): Promise<void> {
  expect(condition(gw, 'CredentialsReady')).toMatchObject({ status: 'True', reason: 'TokenIssued' });
  const credential = gw.status?.['credential'] as { issuedAt: string; expiresAt: string; rotateAfter: string };
  const lifetime = Date.parse(credential.expiresAt) - Date.parse(credential.issuedAt);
  expect(lifetime).toBeGreaterThan(55 * 60_000); // tokenTTL 1h in the sample
  expect(Date.parse(credential.rotateAfter)).toBeLessThan(Date.parse(credential.expiresAt));
  const secret = await getObj('secret', `${GATEWAY}-credential`, namespace);
  expect(secret?.metadata.annotations?.['airlock.dev/credential-expires-at']).toBe(credential.expiresAt);
  const token = Buffer.from(secret?.data?.['token'] ?? '', 'base64').toString('utf8');
  // Only the token: the admin kubeconfig's client certificate would authenticate first.
  const server = await kubectlOk(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
  const whoami = JSON.parse(await kubectlOk(['auth', 'whoami', '-o', 'json', `--server=${server}`, '--insecure-skip-tls-verify', `--token=${token}`], { kubeconfig: '/dev/null' })) as { status: { userInfo: { username: string } } };
  expect(whoami.status.userInfo.username).toBe(`system:serviceaccount:${namespace}:airlock-gateway-${GATEWAY}`);
}

/** A serving certificate for the Service names, from the namespace CA, as status.tls says; openssl agrees. */
async function expectServingCertificate(namespace: string, gw: Obj): Promise<void> {
  const tls = gw.status?.['tls'] as { secretName: string; notAfter: string; renewAfter: string; caNotAfter: string };
  expect(tls.secretName).toBe(`${GATEWAY}-tls`);
  const secret = await getObj('secret', tls.secretName, namespace);
  const pem = (key: string): string => Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');
  const cert = new X509Certificate(pem('tls.crt'));
  expect(cert.validToDate.toISOString()).toBe(tls.notAfter);
  expect(cert.subjectAltName).toContain(`DNS:${GATEWAY}.${namespace}.svc`);
  expect(cert.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
  const ca = await getObj('secret', 'airlock-gateway-ca', namespace);
  expect(ca?.metadata.ownerReferences).toBeUndefined();
  expect(Buffer.from(ca?.data?.['ca.crt'] ?? '', 'base64').toString('utf8')).toBe(pem('ca.crt'));
  const dir = await mkdtemp(join(tmpdir(), 'airlock-op-tls-'));
  await writeFile(join(dir, 'ca.crt'), pem('ca.crt'));
  await writeFile(join(dir, 'tls.crt'), pem('tls.crt'));
  const verified = await run('openssl', ['verify', '-purpose', 'sslserver', '-verify_hostname', `${GATEWAY}.${namespace}.svc`, '-CAfile', join(dir, 'ca.crt'), join(dir, 'tls.crt')]);
  expect(verified.stdout.trim()).toBe(`${join(dir, 'tls.crt')}: OK`);
}

/** The operator wrote status only: spec, labels and annotations stay the user's. */
async function expectOnlyStatusWritten(namespace: string): Promise<void> {
  const gw = await getObj('accessgateway', GATEWAY, namespace);
  expect(gw?.metadata.labels).toEqual({ team: 'platform' });
  expect(gw?.metadata.annotations?.['example.com/owner']).toBe('ci');
  const operatorEntries = (gw?.metadata.managedFields ?? []).filter((f) => f.manager === 'airlock-operator');
  expect(operatorEntries.length).toBeGreaterThan(0);
  for (const entry of operatorEntries) {
    expect(entry.subresource).toBe('status');
    expect(Object.keys(entry.fieldsV1 ?? {}).filter((k) => k !== 'f:status')).toEqual([]);
  }
}

describe('AccessGateway operator', () => {
  const ns = useTestNamespace('op');
  let op: Operator | undefined;

  beforeAll(async () => { await installCrds(); });
  afterEach(async () => {
    if (op !== undefined) await stopOperator(op);
    op = undefined;
  });

  it('reconciles a sample gateway into running pods, follows spec changes and cleans up on delete', async () => {
    const namespace = ns.name;
    const rbacName = `airlock-gateway-${namespace}-${GATEWAY}`;
    const started = startOperator(namespace);
    op = started;
    onTestFailed(() => { process.stderr.write(`--- operator output ---\n${started.output.join('')}\n`); });

    const sample = parse(await readFile('config/samples/airlock_v1alpha1_accessgateway.yaml', 'utf8')) as Obj & { metadata: Record<string, unknown> };
    sample.metadata['namespace'] = namespace;
    sample.metadata.labels = { team: 'platform' };
    sample.metadata.annotations = { 'example.com/owner': 'ci' };
    await kubectlOk(['apply', '-f', '-'], { input: stringify(sample) });

    const checksum = await expectOwnedObjects(namespace, rbacName);

    // kwok runs the pods: status follows the real Deployment to Ready.
    const ready = await eventually('Ready gateway with 2 pods', readyGateway(namespace, 2), 90_000);
    expect(ready.status?.['endpoint']).toBe(`https://${GATEWAY}.${namespace}.svc:443`);
    expect(ready.status?.conditions?.map((c) => c.type).sort()).toEqual(['CredentialsReady', 'Degraded', 'NoBypass', 'PoliciesReady', 'Ready']);
    expect(condition(ready, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    // The credential the operator gives its gateway is no path around it: only impersonation and reviews.
    expect(condition(ready, 'NoBypass')).toMatchObject({ status: 'True', reason: 'NoneFound' });
    // Condition transitions and issued certificates are Kubernetes Events on the gateway (kubectl describe shows them).
    await eventually('Ready event', async () => {
      const events = await kubectlOk(['get', 'events', '--field-selector', `involvedObject.kind=AccessGateway,involvedObject.name=${GATEWAY}`,
        '-o', 'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}'], { namespace });
      return events.includes('Normal DeploymentReady Ready=True') && events.includes(`Normal CertificateIssued Issued the serving certificate in Secret ${GATEWAY}-tls (Missing)`)
        ? true : undefined;
    });
    await expectCredential(namespace, ready);
    await expectServingCertificate(namespace, ready);
    await expectProbes(started);

    // Scaling: the Deployment follows without replacing pods (no rollout).
    await kubectlOk(['patch', 'accessgateway', GATEWAY, '--type=merge', '-p', '{"spec":{"replicas":3}}'], { namespace });
    await eventually('Ready gateway with 3 pods', readyGateway(namespace, 3), 90_000);
    expect(await replicaSets(namespace)).toBe(1);

    // A config change: one rollout (one new ReplicaSet), to a new checksum.
    await kubectlOk(['patch', 'accessgateway', GATEWAY, '--type=merge', '-p', '{"spec":{"defaultAction":"Allow"}}'], { namespace });
    const rolled = await eventually('config rollout', async () => {
      const d = await getObj('deployment', GATEWAY, namespace);
      const sum = d?.spec?.template?.metadata?.annotations?.['airlock.dev/config-checksum'];
      return sum !== undefined && sum !== checksum ? d : undefined;
    });
    expect(rolled.spec?.replicas).toBe(3);
    await eventually('rollout finished', readyGateway(namespace, 3), 90_000);
    expect(await replicaSets(namespace)).toBe(2);

    await expectOnlyStatusWritten(namespace);

    // Delete: garbage collection takes the namespaced children, the operator the cluster RBAC.
    // The controller-manager's garbage collector learns about a new CRD at its next discovery
    // resync (every 30 s), so on a cluster whose CRDs were just installed this takes that long.
    await kubectlOk(['delete', 'accessgateway', GATEWAY, '--wait=true'], { namespace });
    for (const [kind, name] of NAMESPACED) await eventually(`${kind}/${name} gone`, gone(kind, name, namespace), 90_000);
    await eventually('ClusterRole gone', gone('clusterrole', rbacName));
    await eventually('ClusterRoleBinding gone', gone('clusterrolebinding', rbacName));

    // Graceful shutdown releases the Lease.
    expect(await stopOperator(started)).toBe(0);
    const lease = await getObj('lease', 'airlock-operator', namespace);
    expect(lease?.spec?.['holderIdentity'] ?? '').toBe('');
  }, 240_000);

  it('serves a user-provided TLS Secret: reports it missing with the fix, then uses it once it exists, never writing it', async () => {
    const namespace = ns.name;
    const started = startOperator(namespace);
    op = started;
    onTestFailed(() => { process.stderr.write(`--- operator output ---\n${started.output.join('')}\n`); });
    const sample = parse(await readFile('config/samples/airlock_v1alpha1_accessgateway.yaml', 'utf8')) as Obj & { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    sample.metadata['namespace'] = namespace;
    sample.spec['tls'] = { mode: 'Secret', secretName: 'byo-tls' };
    await kubectlOk(['apply', '-f', '-'], { input: stringify(sample) });
    const degraded = await eventually('Degraded TLSSecretNotFound', async () => {
      const gw = await getObj('accessgateway', GATEWAY, namespace);
      return condition(gw, 'Degraded')?.reason === 'TLSSecretNotFound' ? gw : undefined;
    });
    expect((condition(degraded, 'Degraded') as { message?: string } | undefined)?.message).toMatch(/Secret \S+\/byo-tls does not exist\. Create or fix the kubernetes\.io\/tls Secret/);

    const dir = await mkdtemp(join(tmpdir(), 'airlock-byo-'));
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', `/CN=${GATEWAY}.${namespace}.svc`,
      '-addext', `subjectAltName=DNS:${GATEWAY}.${namespace}.svc`, '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')]);
    await kubectlOk(['create', 'secret', 'tls', 'byo-tls', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`], { namespace });
    const fixed = await eventually('Degraded AsExpected', async () => {
      const gw = await getObj('accessgateway', GATEWAY, namespace);
      return condition(gw, 'Degraded')?.reason === 'AsExpected' ? gw : undefined;
    }, 45_000);
    const notAfter = new X509Certificate(await readFile(join(dir, 'tls.crt'))).validToDate.toISOString();
    expect(fixed.status?.['tls']).toEqual({ secretName: 'byo-tls', notAfter });
    const secret = await getObj('secret', 'byo-tls', namespace);
    expect(secret?.metadata.managedFields?.some((f) => f.manager === 'airlock-operator')).toBe(false);
    expect(await getObj('secret', `${GATEWAY}-tls`, namespace)).toBeUndefined();
    const deployment = await getObj('deployment', GATEWAY, namespace) as Obj & { spec?: { template?: { spec?: { volumes?: { name: string; secret?: { secretName: string } }[] } } } };
    expect(deployment.spec?.template?.spec?.volumes?.find((v) => v.name === 'tls')?.secret?.secretName).toBe('byo-tls');
  }, 120_000);
});
