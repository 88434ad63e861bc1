// The operator and a gateway at scale and through an API server restart, on a control plane of its
// own:
//   npm run bench:scale -- [--policies 1000] [--gateways 30] [--idle-seconds 30]
// 1,000 AccessPolicies of 10 rules and 30 AccessGateways selecting them all in one namespace. The
// operator runs as `node operator/main.ts` under its own client certificate, so the API server's
// audit log tells its requests apart; the gateway runs as its own process (bench/gateway-process.ts).
// Measures: the operator's API requests (writes with nothing changed, one new policy, a restart),
// the time until every policy's status is set, the operator's and the gateway's memory, a new
// Deny enforced, GET p99 through the gateway during a full policy churn, and how soon both serve
// again after the API server is back.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { controlComponent, issueClientCertificate, pkiPaths, startControlPlane, writeKubeconfig } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway } from '../hack/local-gateway.ts';
import { startGatewayProcess } from './gateway-process.ts';
import {
  AuditCounter, benchCallerPolicy, directCaller, killOnExit, denyPolicy, fleetGateway, fleetPolicy, gatewayCaller, memoryOf, percentile, pool, SCALE_NS, sleep, startOperator,
  TARGET_NS, timeUntil, type Caller, type Obj, type OperatorProcess, type RequestCount,
} from './scale-support.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:scale -- [--policies 1000] [--gateways 30] [--idle-seconds 30]');
const { values } = parseArgs({ options: {
  policies: { type: 'string', default: '1000' },
  gateways: { type: 'string', default: '30' },
  'idle-seconds': { type: 'string', default: '30' },
} });
const POLICIES = Number(values.policies);
const GATEWAYS = Number(values.gateways);
const IDLE_MS = Number(values['idle-seconds']) * 1000;
const OPERATOR_USER = 'airlock-operator-bench';
const API = { group: 'airlock.dev', version: 'v1alpha1' } as const;

const rows: string[][] = [];
const row = (measure: string, value: string, target = ''): void => { rows.push([measure, value, target]); console.log(`  ${measure}: ${value}${target === '' ? '' : ` (target ${target})`}`); };
const mib = (n: number): string => `${n.toFixed(0)} MiB`;
const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'not within the timeout');
const counted = (c: RequestCount): string => {
  console.log(`    ${JSON.stringify(c.byVerb)}`);
  return `${c.writes} writes (${c.statusWrites} status), ${c.total} requests`;
};

const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-scale-'));
const cp = await startControlPlane({ dir, lifeline: true, removeOnStop: true });
const admin = new KubeConfig();
admin.loadFromFile(cp.kubeconfig);
const custom = admin.makeApiClient(CustomObjectsApi);
const run = async (args: readonly string[], input?: string): Promise<void> => {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(cp.kubectlPath, [...args], { env: { ...process.env, KUBECONFIG: cp.kubeconfig } }, (error) => { if (error === null) resolve(); else reject(new Error(error.message)); });
    if (input !== undefined) child.stdin?.end(input);
  });
};

const plural = (kind: string): string => (kind === 'AccessPolicy' ? 'accesspolicies' : 'accessgateways');
const create = (obj: Obj): Promise<unknown> => custom.createNamespacedCustomObject({ ...API, plural: plural(obj.kind), namespace: SCALE_NS, body: obj });
const patch = (kind: string, name: string, body: object): Promise<unknown> => custom.patchNamespacedCustomObject(
  { ...API, plural: plural(kind), namespace: SCALE_NS, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

interface Listed { metadata: { name: string; generation?: number }; status?: { observedGeneration?: number; selectedBy?: string[]; conditions?: { type: string; status: string }[] } }
/** The policies, or none while the API server does not answer (it is restarting in the outage phase). */
async function listPolicies(): Promise<Listed[]> {
  return ((await custom.listNamespacedCustomObject({ ...API, plural: 'accesspolicies', namespace: SCALE_NS }).catch(() => ({ items: [] }))) as { items: Listed[] }).items;
}
/** A policy's status is set: Accepted for its newest generation, naming every gateway. */
const statusSet = (p: Listed): boolean => p.status?.observedGeneration === p.metadata.generation
  && (p.status?.conditions ?? []).some((c) => c.type === 'Accepted') && (p.status?.selectedBy?.length ?? 0) === GATEWAYS;
async function allStatusesSet(expected: number): Promise<boolean> {
  const items = (await listPolicies()).filter((p) => p.metadata.name.startsWith('fleet-'));
  return items.length === expected && items.every(statusSet);
}

/** RSS, with the V8 heap in use and the CPU time so far from the operator's own /metrics. */
async function operatorMemory(op: OperatorProcess): Promise<string> {
  const text = await (await fetch(`${op.metricsUrl}/metrics`)).text();
  const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
  return `${mib(memoryOf(op.pid).rss)} (heap used ${mib(metric('nodejs_heap_size_used_bytes') / 1048576)}, CPU ${metric('process_cpu_seconds_total').toFixed(0)} s)`;
}

/** Waits until the operator made no write for `quietMs`; the requests it made from `from` until then. */
async function settle(counter: AuditCounter, from: number, quietMs = 5000): Promise<RequestCount> {
  let last = -1;
  let stableSince = performance.now();
  for (;;) {
    const now = counter.since(from);
    if (now.writes !== last) { last = now.writes; stableSince = performance.now(); }
    if (performance.now() - stableSince >= quietMs) return now;
    await sleep(500);
  }
}

// Setup: namespaces, the operator's own identity, the bench caller's RBAC, 30 gateways.
await run(['apply', '--server-side', '-f', 'crds/']);
await run(['wait', '--for=condition=Established', '--timeout=60s', 'crd/accesspolicies.airlock.dev', 'crd/accessgateways.airlock.dev']);
for (const ns of [SCALE_NS, TARGET_NS, 'airlock-system']) await run(['create', 'namespace', ns]);
await run(['create', 'configmap', 'settings', '-n', TARGET_NS, '--from-literal=region=eu-west-1']);
await run(['create', 'rolebinding', 'bench-ci', '-n', TARGET_NS, '--clusterrole=view', `--user=oidc:${CI_CLIENT.clientId}`]);
const pki = { ...pkiPaths(join(dir, 'pki')), dir: join(dir, 'pki') };
const cert = await issueClientCertificate(pki, OPERATOR_USER, ['system:masters']);
const operatorKubeconfig = await writeKubeconfig(join(dir, 'operator.kubeconfig'), { server: cp.server, caCertFile: pki.caCert, user: OPERATOR_USER, clientCertFile: cert.cert, clientKeyFile: cert.key });
const audit = new AuditCounter(join(dir, 'audit', 'audit.log'), OPERATOR_USER);
const logFile = join(dir, 'operator.log');
let operator: OperatorProcess = await startOperator({ kubeconfig: operatorKubeconfig, logFile });
await sleep(5000);
row('operator RSS, nothing to manage', await operatorMemory(operator));

console.log(`${GATEWAYS} gateways`);
await pool(Array.from({ length: GATEWAYS }, (_, i) => fleetGateway(i)), 8, create);
const gatewaysReady = await timeUntil(async () => {
  const items = ((await custom.listNamespacedCustomObject({ ...API, plural: 'accessgateways', namespace: SCALE_NS })) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] }).items;
  return items.length === GATEWAYS && items.every((g) => (g.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
}, { timeoutMs: 300_000, intervalMs: 1000 });
row(`${GATEWAYS} gateways Ready`, seconds(gatewaysReady));
await settle(audit, audit.mark());
row('operator RSS, 0 policies', await operatorMemory(operator));

// The gateway, as its own process, enforcing the policies from one to the whole fleet.
await create(benchCallerPolicy());
const local = await startLocalGateway({ cluster: { dir, kubeconfig: cp.kubeconfig, kubectlPath: cp.kubectlPath }, name: 'scale', policyNamespace: SCALE_NS, auditLevel: 'Metadata' });
await local.running.stop();
const gateway = await startGatewayProcess(local.dir, undefined);
killOnExit(gateway.pid);
const caller: Caller = gatewayCaller(gateway.url, await readFile(local.caFile), await local.oidc.token(CI_CLIENT.clientId));
await timeUntil(async () => (await caller.get()).status === 200, { timeoutMs: 120_000, intervalMs: 200 });
for (let i = 0; i < 500; i++) await caller.get();
row('gateway RSS, 1 policy', mib(memoryOf(gateway.pid).rss));

// Apply the fleet: every status set, and what it cost.
console.log(`${POLICIES} policies`);
let from = audit.mark();
const applyStarted = performance.now();
await pool(Array.from({ length: POLICIES }, (_, i) => fleetPolicy(i)), 16, create);
const applied = performance.now() - applyStarted;
const lag = await timeUntil(() => allStatusesSet(POLICIES), { timeoutMs: 300_000, intervalMs: 250 });
row(`every status set, from the first of ${POLICIES} creates (the creates took ${seconds(applied)})`, `${seconds(applied + lag)} (${seconds(lag)} after the last)`, '≤ 15 s');
row(`operator requests for ${POLICIES} new policies`, counted(await settle(audit, from)));

from = audit.mark();
await sleep(IDLE_MS);
row(`operator writes, ${IDLE_MS / 1000} s idle`, counted(audit.since(from)), '0');
row(`operator RSS, ${POLICIES} policies, idle`, await operatorMemory(operator), '≤ 300 MiB');

from = audit.mark();
await pool(Array.from({ length: POLICIES }, (_, i) => fleetPolicy(i).metadata['name'] as string), 16, (name) => patch('AccessPolicy', name, { metadata: { annotations: { 'bench.airlock.dev/touched': '1' } } }));
row(`operator writes after annotating ${POLICIES} policies (nothing it reads changed)`, counted(await settle(audit, from)), '0');

from = audit.mark();
await create({ ...fleetPolicy(POLICIES), metadata: { ...fleetPolicy(POLICIES).metadata, name: 'one-more' } });
await sleep(20_000);
row('operator requests in 20 s after one new policy', counted(audit.since(from)));

await operator.stop();
from = audit.mark();
operator = await startOperator({ kubeconfig: operatorKubeconfig, logFile });
row('operator requests after a restart', counted(await settle(audit, from)));
row('operator RSS after a restart', await operatorMemory(operator), '≤ 300 MiB');

// Its own identity, so its reads are not counted as the operator's.
const directCert = await issueClientCertificate(pki, 'bench-direct', ['system:masters']);
const direct: Caller = directCaller(cp.server, { ca: await readFile(pki.caCert), cert: await readFile(directCert.cert), key: await readFile(directCert.key) });
const steady: number[] = [];
const steadyDirect: number[] = [];
for (let i = 0; i < 1000; i++) { steady.push((await caller.get()).ms); steadyDirect.push((await direct.get()).ms); }
row(`gateway RSS, ${POLICIES + 1} policies, idle`, mib(memoryOf(gateway.pid).rss), '≤ 256 MiB');
row('GET p50 / p99, steady: through the gateway (straight to the API server)', `${percentile(steady, 0.5).toFixed(1)} / ${percentile(steady, 0.99).toFixed(1)} ms (${percentile(steadyDirect, 0.5).toFixed(1)} / ${percentile(steadyDirect, 0.99).toFixed(1)} ms)`);

// Churn: every policy's spec changes at once, while a caller keeps reading.
from = audit.mark();
const during: number[] = [];
const duringDirect: number[] = [];
let churning = true;
const reader = (async () => { while (churning as boolean) { during.push((await caller.get()).ms); duringDirect.push((await direct.get()).ms); } })();
const churnStarted = performance.now();
await pool(Array.from({ length: POLICIES }, (_, i) => fleetPolicy(i, 1)), 16, (p) => patch('AccessPolicy', p.metadata['name'] as string, { spec: p.spec }));
const churned = performance.now() - churnStarted;
const churnStatus = churned + await timeUntil(() => allStatusesSet(POLICIES), { timeoutMs: 300_000, intervalMs: 250 });
churning = false;
await reader;
row(`GET p50 / p99 during a full churn (${during.length} GETs each)`, `${percentile(during, 0.5).toFixed(1)} / ${percentile(during, 0.99).toFixed(1)} ms, max ${percentile(during, 1).toFixed(0)} ms (${percentile(duringDirect, 0.5).toFixed(1)} / ${percentile(duringDirect, 0.99).toFixed(1)} ms, max ${percentile(duringDirect, 1).toFixed(0)} ms)`, '≤ 2× steady');
row('every status updated after the churn', seconds(churnStatus));
row('operator requests for the churn', counted(await settle(audit, from)));
const opMem = memoryOf(operator.pid);
const gwMem = memoryOf(gateway.pid);
row('operator RSS after the churn (peak)', `${await operatorMemory(operator)}, peak ${mib(opMem.peak)}`, '≤ 300 MiB');
row('gateway RSS after the churn (peak)', `${mib(gwMem.rss)} (${mib(gwMem.peak)})`, '≤ 256 MiB');

// A new Deny, enforced.
const enforce: number[] = [];
for (let round = 0; round < 5; round++) {
  const name = `freeze-${round}`;
  const started = performance.now();
  await create(denyPolicy(name));
  await timeUntil(async () => (await caller.get()).status === 403, { timeoutMs: 30_000, intervalMs: 5 });
  enforce.push(performance.now() - started);
  await custom.deleteNamespacedCustomObject({ ...API, plural: 'accesspolicies', namespace: SCALE_NS, name });
  await timeUntil(async () => (await caller.get()).status === 200, { timeoutMs: 30_000, intervalMs: 20 });
}
row('a new Deny enforced (p50 / max of 5)', `${percentile(enforce, 0.5).toFixed(0)} / ${percentile(enforce, 1).toFixed(0)} ms`, '≤ 300 ms');

// The API server goes away for 10 s and comes back.
const linesBefore = operator.lines();
await controlComponent(dir, 'stop', 'kube-apiserver');
await sleep(10_000);
const outageLines = operator.lines() - linesBefore;
await controlComponent(dir, 'start', 'kube-apiserver');
const back = performance.now();
const afterOutage = { ...fleetPolicy(0), metadata: { ...fleetPolicy(0).metadata, name: 'after-outage' } };
const [gatewayBack, policyBack] = await Promise.all([
  timeUntil(async () => (await caller.get()).status === 200, { timeoutMs: 60_000, intervalMs: 50 }),
  (async () => {
    // Created as soon as the API server takes it (it answers 429 while its storage warms up).
    await timeUntil(() => create(afterOutage).then(() => true, () => false), { timeoutMs: 60_000, intervalMs: 50 });
    const created = performance.now() - back;
    await timeUntil(async () => {
      const p = await custom.getNamespacedCustomObject({ ...API, plural: 'accesspolicies', namespace: SCALE_NS, name: 'after-outage' }).catch(() => undefined) as Listed | undefined;
      return p !== undefined && statusSet(p);
    }, { timeoutMs: 120_000, intervalMs: 50 });
    return { created, status: performance.now() - back };
  })(),
]);
row('operator log lines during a 10 s API server outage', String(outageLines));
row('gateway: first GET served after the API server is ready', `${gatewayBack.toFixed(0)} ms`, '≤ 2 s');
row('operator: a policy created after the API server is ready has its status', `${seconds(policyBack.status)} after ready (created at ${seconds(policyBack.created)})`, '≤ 2 s');

await gateway.stop();
await local.oidc.stop();
await rm(local.dir, { recursive: true, force: true });
await operator.stop();
await cp.stop();
console.log(`\n| measure | value | target |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
