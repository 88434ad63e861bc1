// Direct vs gateway on the local control plane, in one run:
//   npm run bench:gateway -- [--requests N] [--concurrency 1,8,32] [--audit Metadata|None]
//                                 [--pin OTHERS:GATEWAY] [--profile DIR]
// Small GET latency (p50/p99) and throughput at several concurrencies, a LIST of 1k objects, and
// the policy decision time with 10k rules. "direct" sends what the gateway would send (its own
// token plus Impersonate-User), so the difference is the gateway's own cost.
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { startControlPlane } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway } from '../hack/local-gateway.ts';
import { type PolicySource } from '../gateway/policy/compile.ts';
import { compilePolicies } from '../gateway/policy/policy-index.ts';
import { evaluatePolicy } from '../gateway/policy/evaluate.ts';
import { gatewayCpuSeconds, pinCpus, startGatewayProcess } from './gateway-process.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:gateway -- [--requests N] [--concurrency 1,8,32] [--audit Metadata|None] [--pin OTHERS:GATEWAY] [--profile DIR] [--gateway process|inline|bare]');
const { values } = parseArgs({ options: {
  requests: { type: 'string', default: '2000' },
  // The concurrencies of the GET rows (e.g. `--concurrency 1` to profile one of them alone).
  concurrency: { type: 'string', default: '1,8,32' },
  // `0:1`: the control plane and the load generator on CPU 0, the gateway alone on CPU 1.
  pin: { type: 'string' },
  audit: { type: 'string', default: 'Metadata' },
  // `process` (default): the gateway runs as its own Node process, as in a pod, so the load
  // generator does not share its event loop; `inline`: in this process (the old method); `bare`:
  // bench/bare-proxy.ts in its own process instead, a TLS proxy with nothing else in it (the floor).
  gateway: { type: 'string', default: 'process' },
  // Writes a V8 CPU profile of the gateway process into this directory (open it in Chrome DevTools).
  profile: { type: 'string' },
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

async function load(target: Target, path: string, concurrency: number, total: number): Promise<{ p50: number; p99: number; rps: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next += 1;
      latencies.push(await get(target, path));
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), rps: total / seconds };
}

type Load = Awaited<ReturnType<typeof load>>;

/** `rounds` rounds of 5 sequential requests direct, then 5 through the gateway; merged per side. */
async function alternating(direct: Target, gateway: Target, path: string, rounds: number): Promise<{ direct: Load; gateway: Load }> {
  const runs: { direct: Load[]; gateway: Load[] } = { direct: [], gateway: [] };
  for (let i = 0; i < rounds; i++) {
    runs.direct.push(await load(direct, path, 1, 5));
    runs.gateway.push(await load(gateway, path, 1, 5));
  }
  const merge = (loads: Load[]): Load => {
    const p50s = loads.map((l) => l.p50).sort((a, b) => a - b);
    const p99s = loads.map((l) => l.p99).sort((a, b) => a - b);
    return { p50: p50s[Math.floor(p50s.length / 2)] ?? 0, p99: p99s.at(-1) ?? 0, rps: loads.length / loads.reduce((sum, l) => sum + 1 / l.rps, 0) };
  };
  return { direct: merge(runs.direct), gateway: merge(runs.gateway) };
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

async function main(): Promise<void> {
  const gatewayCpus = pinCpus(values.pin);
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-'));
  const cp = await startControlPlane({ dir, lifeline: true, removeOnStop: true });
  const kubectl = (args: string[], input?: string): string => execFileSync(cp.kubectlPath, args, { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, input, maxBuffer: 256 * 1024 * 1024 }).toString();
  kubectl(['apply', '--server-side', '-f', 'crds/']);
  kubectl(['wait', '--for=condition=Established', 'crd/accesspolicies.airlock.dev']);
  kubectl(['create', 'namespace', 'bench']);
  const gw = await startLocalGateway({ cluster: { dir, kubeconfig: cp.kubeconfig, kubectlPath: cp.kubectlPath }, name: 'bench', policyNamespace: 'bench', defaultAction: 'Allow', auditLevel: values.audit === 'None' ? 'None' : 'Metadata' });
  const user = `oidc:${CI_CLIENT.clientId}`;
  kubectl(['create', 'clusterrolebinding', 'bench-admin', '--clusterrole=cluster-admin', `--user=${user}`]);
  kubectl(['create', 'configmap', 'small', '-n', 'bench', '--from-literal=k=v']);
  const items = Array.from({ length: 1000 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'bench' }, data: { value: 'x'.repeat(200) } }));
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const ca = readFileSync(gw.caFile);
  const gatewayToken = readFileSync(join(gw.dir, 'token'), 'utf8');
  const direct: Target = { base: cp.server, agent: new Agent({ ca, keepAlive: true, maxSockets: 64 }), headers: { authorization: `Bearer ${gatewayToken}`, 'impersonate-user': user } };
  const inline = values.gateway === 'inline';
  if (!inline) await gw.running.stop();
  const bare = values.gateway === 'bare';
  const served = inline ? { url: gw.url, healthUrl: gw.healthUrl, pid: undefined, stop: () => gw.running.stop() } : await startGatewayProcess(gw.dir, values.profile, { cpus: gatewayCpus, bareAs: bare ? user : undefined });
  // The gateway process's CPU from /proc (the in-process gateway: from its /metrics, load generator included).
  const gatewayCpu = (): Promise<number> => served.pid === undefined ? gatewayCpuSeconds(served.healthUrl) : Promise.resolve(processCpuSeconds(served.pid));
  const viaGateway: Target = { base: served.url, agent: new Agent({ ca, keepAlive: true, maxSockets: 64 }), headers: { authorization: `Bearer ${await gw.oidc.token(CI_CLIENT.clientId)}` } };
  const small = '/api/v1/namespaces/bench/configmaps/small';
  await load(direct, small, 4, 200);
  await load(viaGateway, small, 4, 200);
  const rows: string[] = [];
  const cpu: string[] = [];
  const apiCpu: string[] = [];
  const apiserverPid = (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { pids: Record<string, number> }).pids['kube-apiserver'] ?? 0;
  for (const concurrency of values.concurrency.split(',').map(Number)) {
    const apiBefore = processCpuSeconds(apiserverPid);
    const d = await load(direct, small, concurrency, REQUESTS);
    const apiMid = processCpuSeconds(apiserverPid);
    const apiDirect = apiMid - apiBefore;
    const before = await gatewayCpu();
    const g = await load(viaGateway, small, concurrency, REQUESTS);
    const used = (await gatewayCpu()) - before;
    const apiGateway = processCpuSeconds(apiserverPid) - apiMid;
    cpu.push(`c=${concurrency}: ${((used * 1e6) / REQUESTS).toFixed(0)} µs`);
    apiCpu.push(`c=${concurrency}: ${((apiDirect * 1e6) / REQUESTS).toFixed(0)} µs direct, ${((apiGateway * 1e6) / REQUESTS).toFixed(0)} µs through the gateway`);
    rows.push(`| GET configmap, concurrency ${concurrency} | ${fmt(d.p50)} / ${fmt(d.p99)} | ${fmt(g.p50)} / ${fmt(g.p99)} | ${signed(g.p50 - d.p50)} / ${signed(g.p99 - d.p99)} | ${d.rps.toFixed(0)} | ${g.rps.toFixed(0)} (${((g.rps / d.rps) * 100).toFixed(0)}%) |`);
  }
  const list = '/api/v1/namespaces/bench/configmaps';
  // Direct and gateway in alternating rounds: a LIST is long enough that whatever the machine does
  // after the GET rows (writeback of the audit file, a major GC) would otherwise land on one side.
  const { direct: dl, gateway: gl } = await alternating(direct, viaGateway, list, 6);
  rows.push(`| LIST 1k configmaps (~300 KB), sequential, alternating | ${fmt(dl.p50)} / ${fmt(dl.p99)} | ${fmt(gl.p50)} / ${fmt(gl.p99)} | ${signed(gl.p50 - dl.p50)} / ${signed(gl.p99 - dl.p99)} | ${dl.rps.toFixed(1)} | ${gl.rps.toFixed(1)} (${((gl.rps / dl.rps) * 100).toFixed(0)}%) |`);
  const decision = policyDecisionMicros();
  const metrics = bare ? '' : await (await fetch(`${served.healthUrl}/metrics`)).text();
  const audited = /airlock_gateway_audit_records_total\{sink="file",result="written"\} (\d+)/.exec(metrics)?.[1] ?? 'none';
  await served.stop();
  await gw.oidc.stop();
  await cp.stop();
  console.log([
    '| what | direct p50 / p99 (ms) | gateway p50 / p99 (ms) | added p50 / p99 (ms) | direct req/s | gateway req/s (% of direct) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Gateway process CPU per proxied GET (user + system): ${cpu.join(', ')}.`,
    `kube-apiserver CPU per GET (from /proc): ${apiCpu.join('; ')}.`,
    `Policy decision with ${decision.rules} compiled rules: ${decision.micros.toFixed(2)} µs per decision (200k decisions).`,
    `${bare ? 'bench/bare-proxy.ts (no authentication, policy, audit or metrics) instead of the gateway, in its own process' : `Gateway ${inline ? 'in the load generator\'s process' : 'in its own process (node gateway/main.ts)'}`}; audit level ${values.audit}${gatewayCpus === undefined ? '; all processes share every CPU' : `; gateway on CPU ${gatewayCpus}, everything else on CPU ${values.pin?.split(':')[0] ?? ''}`}.`,
    `Audit records written durably (file sink, FailClosed, fsync group commit) during the run: ${audited}.`,
  ].join('\n'));
}

await main();
