// Captures the decoder's fixtures from a real control plane (run once, commit the output):
//   node gateway/audit/protobuf/testdata/capture-fixtures.ts KUBECONFIG KUBECTL
// kubectl-writes.json: for each kubectl command that writes protobuf, the bytes kubectl sent
// (`-v=10` prints them) and the JSON kubectl prints for the same object with --dry-run=client
// (Go's encoding/json of the very object it serialised). api-server-objects.json: objects of many
// kinds, as the API server returns them in protobuf and in JSON. It works in a namespace of its own
// and deletes it at the end.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const [kubeconfig = '', kubectlPath = ''] = process.argv.slice(2);
const NS = 'protobuf-fixtures';
const run = promisify(execFile);

async function kubectl(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run(kubectlPath, ['-n', NS, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 64 * 1024 * 1024 });
}

/** The request body kubectl -v=10 printed as a hex dump (the last write it made). */
function requestBody(stderr: string): Buffer {
  const blocks = stderr.split('"Request Body" body=<').slice(1);
  const last = blocks.at(-1);
  if (last === undefined) throw new Error('kubectl printed no request body');
  const hex: string[] = [];
  for (const line of last.split('\n').slice(1)) {
    const match = /^\s*[0-9a-f]{8}\s+((?:[0-9a-f]{2}\s+)+)\|/.exec(line);
    if (match === null) break;
    hex.push((match[1] ?? '').replace(/\s+/g, ''));
  }
  return Buffer.from(hex.join(''), 'hex');
}

const WRITES: readonly (readonly string[])[] = [
  ['create', 'configmap', 'settings', '--from-literal=region=eu-west-1', '--from-literal=password=hunter2', '--from-file=blob=BINARY_FILE'],
  ['create', 'deployment', 'multi', '--image=nginx:1.27', '--image=busybox:1.36', '--replicas=3', '--port=8080'],
  ['create', 'job', 'once', '--image=busybox:1.36', '--', 'echo', 'hi'],
  ['create', 'cronjob', 'tick', '--image=busybox:1.36', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'],
  ['create', 'job', 'from-cron', '--from=cronjob/tick-source'],
  ['create', 'service', 'clusterip', 'api', '--tcp=80:8080', '--tcp=443:8443'],
  ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
  ['create', 'role', 'reader', '--verb=get,list,watch', '--resource=pods,configmaps,deployments.apps', '--resource-name=web'],
  ['create', 'rolebinding', 'readers', '--role=reader', '--user=alice', '--group=devs', `--serviceaccount=${NS}:builder`],
  ['create', 'clusterrole', 'protobuf-fixtures-health', '--verb=get', '--non-resource-url=/healthz', '--non-resource-url=/livez'],
  ['create', 'clusterrolebinding', 'protobuf-fixtures-view', '--clusterrole=view', '--user=bob'],
  ['create', 'serviceaccount', 'builder'],
  ['create', 'namespace', 'protobuf-fixtures-extra'],
  ['create', 'priorityclass', 'protobuf-fixtures-high', '--value=1000', '--description=for fixtures', '--preemption-policy=Never'],
  ['create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=50%'],
  ['create', 'ingress', 'web', '--class=nginx', '--rule=example.com/api*=api:80,tls=web-tls', '--annotation=team=payments'],
  ['create', 'quota', 'limits', '--hard=cpu=1500m,memory=2Gi,pods=10', '--scopes=NotTerminating'],
  ['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu=80'],
];

/** kubectl's arguments with flags added before a `--` (after it they would be the container's). */
function withFlags(command: readonly string[], flags: readonly string[]): string[] {
  const dashes = command.indexOf('--');
  return dashes === -1 ? [...command, ...flags] : [...command.slice(0, dashes), ...flags, ...command.slice(dashes)];
}

async function captureWrites(binaryFile: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const command of WRITES) {
    const args = command.map((a) => a.replace('BINARY_FILE', binaryFile));
    const server = await kubectl(withFlags(args, ['--dry-run=server', '-o', 'json', '-v=10']));
    const client = await kubectl(withFlags(args, ['--dry-run=client', '-o', 'json']));
    out.push({ command: command.join(' '), body: requestBody(server.stderr).toString('base64'), kubectlJson: JSON.parse(client.stdout) as unknown });
  }
  return out;
}

interface Cluster { server: URL; ca: Buffer; cert: Buffer; key: Buffer }

async function cluster(): Promise<Cluster> {
  const config = parse(await readFile(kubeconfig, 'utf8')) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const c = config.clusters[0]?.cluster;
  const u = config.users[0]?.user;
  if (c === undefined || u === undefined) throw new Error('the kubeconfig has no cluster or user');
  const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
  return { server: new URL(c.server), ca: b64(c['certificate-authority-data']), cert: b64(u['client-certificate-data']), key: b64(u['client-key-data']) };
}

function get(c: Cluster, path: string, accept: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, c.server), { ca: c.ca, cert: c.cert, key: c.key, headers: { accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => { if (res.statusCode === 200) resolve(Buffer.concat(chunks)); else reject(new Error(`GET ${path}: ${String(res.statusCode)}`)); });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The object in both forms, read until both show the same resourceVersion. */
async function bothForms(c: Cluster, path: string): Promise<{ path: string; protobuf: string; json: unknown }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const protobuf = await get(c, path, 'application/vnd.kubernetes.protobuf');
    const json = JSON.parse((await get(c, path, 'application/json')).toString('utf8')) as { metadata?: { resourceVersion?: string } };
    const again = JSON.parse((await get(c, path, 'application/json')).toString('utf8')) as { metadata?: { resourceVersion?: string } };
    if (json.metadata?.resourceVersion === again.metadata?.resourceVersion) return { path, protobuf: protobuf.toString('base64'), json };
  }
  throw new Error(`${path} kept changing`);
}

async function objectPaths(): Promise<string[]> {
  const name = async (resource: string, ns = NS): Promise<string> => (await run(kubectlPath, ['-n', ns, 'get', resource, '-o', 'jsonpath={.items[0].metadata.name}'], { env: { ...process.env, KUBECONFIG: kubeconfig } })).stdout;
  const lease = await name('leases', 'kube-node-lease');
  const node = (await run(kubectlPath, ['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'], { env: { ...process.env, KUBECONFIG: kubeconfig } })).stdout;
  return [
    `/apis/apps/v1/namespaces/${NS}/deployments/web`, `/apis/apps/v1/namespaces/${NS}/replicasets/${await name('replicasets')}`,
    `/api/v1/namespaces/${NS}/pods/${await name('pods')}`, `/apis/batch/v1/namespaces/${NS}/jobs/once`, `/apis/batch/v1/namespaces/${NS}/cronjobs/tick`,
    `/api/v1/namespaces/${NS}/services/api`, `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/${await name('endpointslices')}`,
    `/apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/web`, `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/web`,
    `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/web`, `/api/v1/namespaces/${NS}/resourcequotas/limits`,
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles/reader`, `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/readers`,
    `/api/v1/namespaces/${NS}/serviceaccounts/builder`, `/api/v1/namespaces/${NS}/configmaps/settings`, `/api/v1/namespaces/${NS}`,
    `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${lease}`, `/apis/events.k8s.io/v1/namespaces/${NS}/events?limit=3`,
    `/api/v1/nodes/${node}`, '/apis/rbac.authorization.k8s.io/v1/clusterroles/admin', '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/system-leader-election',
    '/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical', `/api/v1/namespaces/${NS}/configmaps`,
  ];
}

async function main(): Promise<void> {
  if (kubeconfig === '' || kubectlPath === '') throw new Error('usage: capture-fixtures.ts KUBECONFIG KUBECTL');
  const binaryFile = join(await mkdtemp(join(tmpdir(), 'protobuf-fixtures-')), 'blob.bin');
  await writeFile(binaryFile, Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]));
  await run(kubectlPath, ['create', 'namespace', NS], { env: { ...process.env, KUBECONFIG: kubeconfig } });
  try {
    // The real objects some commands refer to, and whose stored forms are captured.
    await kubectl(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2']);
    await kubectl(['create', 'cronjob', 'tick-source', '--image=busybox:1.36', '--schedule=0 0 * * *']);
    // Dry runs first (a server dry run of an existing name fails), then the real objects.
    const writes = await captureWrites(binaryFile);
    for (const command of WRITES) await kubectl(command.map((a) => a.replace('BINARY_FILE', binaryFile)));
    await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    await kubectl(['wait', '--for=condition=Complete', 'job/once', '--timeout=60s']).catch(() => undefined);
    const c = await cluster();
    const objects = [];
    for (const path of await objectPaths()) objects.push(await bothForms(c, path));
    const here = new URL('.', import.meta.url);
    await writeFile(new URL('kubectl-writes.json', here), `${JSON.stringify(writes, null, 1)}\n`);
    await writeFile(new URL('api-server-objects.json', here), `${JSON.stringify(objects, null, 1)}\n`);
    process.stdout.write(`captured ${String(writes.length)} kubectl writes and ${String(objects.length)} objects\n`);
  } finally {
    await run(kubectlPath, ['delete', 'namespace', NS, 'protobuf-fixtures-extra', '--wait=false', '--ignore-not-found'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    await run(kubectlPath, ['delete', 'clusterrole,clusterrolebinding,priorityclass', 'protobuf-fixtures-health', 'protobuf-fixtures-view', 'protobuf-fixtures-high', '--ignore-not-found'], { env: { ...process.env, KUBECONFIG: kubeconfig } }).catch(() => undefined);
  }
}

await main();
