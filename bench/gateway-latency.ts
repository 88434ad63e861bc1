// Direct vs the gateway (and, given one, its peer kube-oidc-proxy) on the local control plane, in one run:
//   npm run bench:gateway -- [--requests N] [--concurrency 1,8,32] [--rounds R] [--audit Metadata|None|Request|RequestResponse] [--body-bytes N] [--audit-cap BYTES]
//                            [--pin OTHERS:GATEWAY] [--profile DIR] [--peer kube-oidc-proxy=PATH]
// Small GET latency (p50/p99), throughput and CPU per request at several concurrencies, a LIST of
// 1k objects, and the policy decision time with 10k rules. "direct" sends what the gateway would
// send (its own token plus Impersonate-User), so the difference is the proxy's own cost. With
// `--peer`, kube-oidc-proxy serves the same caller with the same certificate, token and CPUs.
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { startControlPlane } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway } from '../hack/local-gateway.ts';
import { type PolicySource } from '../core/policy/compile.ts';
import { compilePolicies } from '../core/policy/policy-index.ts';
import { evaluatePolicy } from '../core/policy/evaluate.ts';
import { gatewayCpuSeconds, pinCpus, startGatewayProcess } from './gateway-process.ts';
import { peerBinary, startPeer, type PeerProcess } from './peer-kube-oidc-proxy.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:gateway -- [--requests N] [--concurrency 1,8,32] [--rounds R] [--audit Metadata|None|Request|RequestResponse] [--body-bytes N] [--audit-cap BYTES] [--pin OTHERS:GATEWAY] [--profile DIR] [--gateway process|inline|bare] [--peer kube-oidc-proxy=PATH]');
const { values } = parseArgs({ options: {
  requests: { type: 'string', default: '2000' },
  // The concurrencies of the GET rows (e.g. `--concurrency 1` to profile one of them alone).
  concurrency: { type: 'string', default: '1,8,32' },
  // `0:1`: the control plane and the load generator on CPU 0, the gateway alone on CPU 1.
  pin: { type: 'string' },
  audit: { type: 'string', default: 'Metadata' },
  // The size of the ConfigMap the GET rows read (its data value; the answer is ~300 bytes more).
  'body-bytes': { type: 'string', default: '3' },
  // audit.maxResponseBodyBytes, for --audit RequestResponse (the gateway's default otherwise).
  'audit-cap': { type: 'string' },
  // `process` (default): the gateway runs as its own Node process, as in a pod, so the load
  // generator does not share its event loop; `inline`: in this process (the old method); `bare`:
  // bench/bare-proxy.ts in its own process instead, a TLS proxy with nothing else in it (the floor).
  gateway: { type: 'string', default: 'process' },
  // Writes a V8 CPU profile of the gateway process into this directory (open it in Chrome DevTools).
  profile: { type: 'string' },
  // `kube-oidc-proxy=PATH`: the same load through kube-oidc-proxy too, in the same run (peer-kube-oidc-proxy.ts).
  peer: { type: 'string' },
  // Each concurrency's GETs are split into this many rounds, the sides taking turns.
  rounds: { type: 'string', default: '3' },
} });
const REQUESTS = Number(values.requests);

interface Target { readonly base: string; readonly headers: Record<string, string>; readonly agent: Agent }

function get(target: Target, path: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${target.base}${path}`, { agent: target.agent, headers: target.headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode}`));
        else resolve(performance.now() - started);
      });
    });
    req.on('error', (e) => { reject(new Error(`GET ${target.base}${path}: ${e.message}`)); });
    req.end();
  });
}

/** The latencies of `total` GETs, `concurrency` at a time, and how long they took together. */
async function load(target: Target, path: string, concurrency: number, total: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next += 1;
      latencies.push(await get(target, path));
    }
  }));
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

interface Load { readonly p50: number; readonly p99: number; readonly rps: number }

function summary(latencies: number[], seconds: number): Load {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), rps: latencies.length / seconds };
}

/** One way to the API server: direct, the gateway (or the bare proxy), or the peer. */
interface Side {
  readonly name: string;
  readonly target: Target;
  /** The CPU seconds its proxy process has used so far (none for direct). */
  readonly cpu?: () => Promise<number>;
}

interface Measured { readonly load: Load; readonly cpuMicros?: number; readonly apiMicros: number }

/**
 * `rounds` rounds; in each, every side serves its share of `total` GETs in turn, the first side of
 * a round rotating so that no side always follows the same one. Whatever the machine does meanwhile
 * (other work on the shared cores, writeback, a major GC) lands on every side alike. Latencies are
 * merged per side; CPU is counted per side over its own phases only.
 */
async function measureSides(sides: readonly Side[], shape: { path: string; concurrency: number; total: number; rounds: number }, apiCpu: () => number): Promise<Measured[]> {
  const acc = sides.map(() => ({ latencies: [] as number[], seconds: 0, cpu: 0, api: 0 }));
  const share = Math.ceil(shape.total / shape.rounds);
  for (let round = 0; round < shape.rounds; round++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (round + k) % sides.length;
      const side = sides[i]!;
      const cpuBefore = side.cpu === undefined ? 0 : await side.cpu();
      const apiBefore = apiCpu();
      const run = await load(side.target, shape.path, shape.concurrency, share);
      const a = acc[i]!;
      a.api += apiCpu() - apiBefore;
      a.cpu += side.cpu === undefined ? 0 : (await side.cpu()) - cpuBefore;
      a.latencies.push(...run.latencies);
      a.seconds += run.seconds;
    }
  }
  return sides.map((side, i) => {
    const a = acc[i]!;
    const n = a.latencies.length;
    return { load: summary(a.latencies, a.seconds), apiMicros: (a.api * 1e6) / n, ...(side.cpu === undefined ? {} : { cpuMicros: (a.cpu * 1e6) / n }) };
  });
}

/** `rounds` rounds of 5 sequential LISTs per side, in turn; per side the median p50 and the worst p99 of its rounds. */
async function alternating(sides: readonly Side[], path: string, rounds: number): Promise<Load[]> {
  const runs: Load[][] = sides.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < sides.length; k++) {
      const run = await load(sides[k]!.target, path, 1, 5);
      runs[k]!.push(summary(run.latencies, run.seconds));
    }
  }
  return runs.map((loads) => {
    const p50s = loads.map((l) => l.p50).sort((a, b) => a - b);
    const p99s = loads.map((l) => l.p99).sort((a, b) => a - b);
    return { p50: p50s[Math.floor(p50s.length / 2)] ?? 0, p99: p99s.at(-1) ?? 0, rps: loads.length / loads.reduce((sum, l) => sum + 1 / l.rps, 0) };
  });
}

function policyDecisionMicros(): { rules: number; micros: number } {
  const policies: PolicySource[] = Array.from({ length: 10_000 }, (_, i) => ({
    metadata: { namespace: 'bench', name: `p${i}` },
    spec: { subjects: [{ group: { name: `team-${i % 500}` } }], rules: [{ name: 'r', action: 'Allow', match: { verbs: ['get'], resources: [`res${i}`], namespaces: [`ns${i % 100}`] } }] },
  }));
  const compiled = compilePolicies(policies);
  const input = {
    request: { resourceRequest: true, verb: 'get', apiGroup: '', resource: 'res42', subresource: '', namespace: 'ns42', name: 'x', path: '/api/v1/namespaces/ns42/res42/x' },
    caller: { user: { username: 'u', groups: ['team-42', 'team-7', 'system:authenticated'], extra: {} }, method: 'oidc' as const },
    effective: { username: 'u', groups: ['team-42', 'team-7', 'system:authenticated'], extra: {} },
  };
  const n = 200_000;
  for (let i = 0; i < 10_000; i++) evaluatePolicy(compiled, input, 'Deny');
  const started = performance.now();
  for (let i = 0; i < n; i++) evaluatePolicy(compiled, input, 'Deny');
  return { rules: compiled.ruleCount, micros: ((performance.now() - started) * 1000) / n };
}

const fmt = (n: number): string => n.toFixed(2);
const signed = (n: number): string => `${n < 0 ? '' : '+'}${fmt(n)}`;

/** A process's user + system CPU seconds so far (/proc/PID/stat, in clock ticks of 10 ms). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Table rows, one per side and load: latency, the difference to direct, throughput, CPU per request. */
function rows(what: string, sides: readonly Side[], measured: readonly Measured[]): string[] {
  const direct = measured[0]!;
  return sides.map((side, i) => {
    const m = measured[i]!;
    const added = i === 0 ? '' : `${signed(m.load.p50 - direct.load.p50)} / ${signed(m.load.p99 - direct.load.p99)}`;
    const share = i === 0 ? '' : ` (${((m.load.rps / direct.load.rps) * 100).toFixed(0)}%)`;
    const cpu = m.cpuMicros === undefined ? '' : `${m.cpuMicros.toFixed(0)} µs`;
    return `| ${i === 0 ? what : ''} | ${side.name} | ${fmt(m.load.p50)} / ${fmt(m.load.p99)} | ${added} | ${m.load.rps.toFixed(what.startsWith('LIST') ? 1 : 0)}${share} | ${cpu} | ${m.apiMicros.toFixed(0)} µs |`;
  });
}

/** A fresh control plane with the bench namespace, its objects, and a local gateway set up on it. */
const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;

function auditLevel(level: string | undefined): (typeof LEVELS)[number] {
  const found = LEVELS.find((l) => l === level);
  if (found === undefined) throw new Error(`--audit must be one of ${LEVELS.join(', ')}`);
  return found;
}

async function setUp(): Promise<{ dir: string; cp: Awaited<ReturnType<typeof startControlPlane>>; gw: Awaited<ReturnType<typeof startLocalGateway>>; user: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-'));
  const cp = await startControlPlane({ dir, lifeline: true, removeOnStop: true });
  const kubectl = (args: string[], input?: string): string => execFileSync(cp.kubectlPath, args, { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, input, maxBuffer: 256 * 1024 * 1024 }).toString();
  kubectl(['apply', '--server-side', '-f', 'crds/']);
  kubectl(['wait', '--for=condition=Established', 'crd/accesspolicies.airlock.dev']);
  kubectl(['create', 'namespace', 'bench']);
  const gw = await startLocalGateway({ cluster: { dir, kubeconfig: cp.kubeconfig, kubectlPath: cp.kubectlPath }, name: 'bench', policyNamespace: 'bench', defaultAction: 'Allow', auditLevel: auditLevel(values.audit),
    ...(values['audit-cap'] === undefined ? {} : { auditMaxResponseBodyBytes: Number(values['audit-cap']) }) });
  const user = `oidc:${CI_CLIENT.clientId}`;
  kubectl(['create', 'clusterrolebinding', 'bench-admin', '--clusterrole=cluster-admin', `--user=${user}`]);
  kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'small', namespace: 'bench' }, data: { k: 'v'.repeat(Math.max(1, Number(values['body-bytes']) - 2)) } }));
  const items = Array.from({ length: 1000 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench' }, data: { value: 'x'.repeat(200) } }));
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return { dir, cp, gw, user };
}

const SMALL = '/api/v1/namespaces/bench/configmaps/small';

interface Served { readonly sides: Side[]; readonly served: { readonly healthUrl: string; stop(): Promise<void> }; readonly peer: PeerProcess | undefined }

/**
 * direct; the gateway as its own process (or in this one, or the bare proxy); and with `--peer`,
 * kube-oidc-proxy on the gateway's CPUs. The same OIDC token goes through both proxies.
 */
async function startSides(env: Awaited<ReturnType<typeof setUp>>, gatewayCpus: string | undefined): Promise<Served> {
  const { cp, gw, user } = env;
  const ca = readFileSync(gw.caFile);
  const agent = (): Agent => new Agent({ ca, keepAlive: true, maxSockets: 64 });
  const gatewayToken = readFileSync(join(gw.dir, 'token'), 'utf8');
  const direct: Target = { base: cp.server, agent: agent(), headers: { authorization: `Bearer ${gatewayToken}`, 'impersonate-user': user } };
  const inline = values.gateway === 'inline';
  if (!inline) await gw.running.stop();
  const bare = values.gateway === 'bare';
  const served = inline ? { url: gw.url, healthUrl: gw.healthUrl, pid: undefined, stop: () => gw.running.stop() } : await startGatewayProcess(gw.dir, values.profile, { cpus: gatewayCpus, bareAs: bare ? user : undefined });
  if (served.pid !== undefined) console.error(`gateway process: pid ${served.pid} (e.g. perf record -g -p ${served.pid})`);
  // The gateway process's CPU from /proc (the in-process gateway: from its /metrics, load generator included).
  const gatewayCpu = (): Promise<number> => served.pid === undefined ? gatewayCpuSeconds(served.healthUrl) : Promise.resolve(processCpuSeconds(served.pid));
  const caller = { authorization: `Bearer ${await gw.oidc.token(CI_CLIENT.clientId)}` };
  const sides: Side[] = [
    { name: 'direct', target: direct },
    { name: bare ? 'bare proxy' : 'Airlock', target: { base: served.url, agent: agent(), headers: caller }, cpu: gatewayCpu },
  ];
  const peerPath = peerBinary(values.peer);
  const peer = peerPath === undefined ? undefined : await startPeer(peerPath, gw.dir, {
    cpus: gatewayCpus,
    ready: async (url) => { await get({ base: url, agent: agent(), headers: caller }, SMALL); return true; },
  });
  if (peer !== undefined) sides.push({ name: 'kube-oidc-proxy', target: { base: peer.url, agent: agent(), headers: caller }, cpu: () => Promise.resolve(processCpuSeconds(peer.pid)) });
  return { sides, served, peer };
}

/** The GET rows at each concurrency and the LIST row, with the load average when each began. */
async function measureAll(sides: readonly Side[], apiserverPid: number): Promise<{ table: string[]; loadAvg: string[] }> {
  for (const side of sides) await load(side.target, SMALL, 4, 200);
  const apiCpu = (): number => processCpuSeconds(apiserverPid);
  const table: string[] = [];
  const loadAvg: string[] = [];
  for (const concurrency of values.concurrency.split(',').map(Number)) {
    loadAvg.push(`c=${concurrency}: ${loadavg()[0]?.toFixed(2) ?? '?'}`);
    const measured = await measureSides(sides, { path: SMALL, concurrency, total: REQUESTS, rounds: Number(values.rounds) }, apiCpu);
    table.push(...rows(`GET configmap, concurrency ${concurrency}`, sides, measured));
  }
  // A LIST is long enough that whatever the machine does after the GET rows (writeback of the
  // audit file, a major GC) would otherwise land on one side: the sides take turns.
  const lists = await alternating(sides, '/api/v1/namespaces/bench/configmaps', 6);
  table.push(...rows('LIST 1k configmaps (~300 KB), sequential', sides, lists.map((l) => ({ load: l, apiMicros: Number.NaN }))).map((r) => r.replace(/\| NaN µs \|$/, '|  |')));
  return { table, loadAvg };
}

function placement(gatewayCpus: string | undefined, peer: PeerProcess | undefined): string {
  const what = values.gateway === 'bare' ? 'bench/bare-proxy.ts (no authentication, policy, audit or metrics) instead of the gateway, in its own process'
    : `Gateway ${values.gateway === 'inline' ? 'in the load generator\'s process' : 'in its own process (node gateway/main.ts)'}`;
  const cpus = gatewayCpus === undefined ? 'all processes share every CPU'
    : `${peer === undefined ? 'gateway' : 'gateway and kube-oidc-proxy'} on CPU ${gatewayCpus}, everything else on CPU ${values.pin?.split(':')[0] ?? ''}`;
  return `${what}; audit level ${values.audit}${values.audit === 'RequestResponse' ? ` (cap ${values['audit-cap'] ?? 'default'})` : ''}; GET body ~${values['body-bytes']} bytes; ${cpus}; GETs in ${values.rounds} rounds per concurrency, the sides taking turns.`;
}

async function main(): Promise<void> {
  const gatewayCpus = pinCpus(values.pin);
  peerBinary(values.peer);
  const env = await setUp();
  const { sides, served, peer } = await startSides(env, gatewayCpus);
  const apiserverPid = (JSON.parse(readFileSync(join(env.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> }).pids['kube-apiserver'] ?? 0;
  const { table, loadAvg } = await measureAll(sides, apiserverPid);
  const decision = policyDecisionMicros();
  const metrics = values.gateway === 'bare' ? '' : await (await fetch(`${served.healthUrl}/metrics`)).text();
  const audited = /airlock_gateway_audit_records_total\{sink="file",result="written"\} (\d+)/.exec(metrics)?.[1] ?? 'none';
  const peerAudited = peer === undefined ? '' : ` kube-oidc-proxy audit events (level Metadata, its log backend, no fsync): ${readFileSync(peer.auditFile, 'utf8').split('\n').filter((l) => l !== '').length}.`;
  await peer?.stop();
  await served.stop();
  await env.gw.oidc.stop();
  await env.cp.stop();
  console.log([
    '| what | through | p50 / p99 (ms) | added p50 / p99 (ms) | req/s (% of direct) | proxy CPU per request | kube-apiserver CPU per request |',
    '|---|---|---|---|---|---|---|',
    ...table,
    '',
    `Policy decision with ${decision.rules} compiled rules: ${decision.micros.toFixed(2)} µs per decision (200k decisions).`,
    placement(gatewayCpus, peer),
    `Audit records written durably (file sink, FailClosed, fsync group commit) during the run: ${audited}.${peerAudited}`,
    `Load average (1 min) at the start of each concurrency: ${loadAvg.join(', ')}.`,
  ].join('\n'));
}

await main();
