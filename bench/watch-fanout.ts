// Watch fan-out, direct vs through the gateway, on the local control plane: W watchers on the
// ConfigMaps of one namespace (each its own connection, as separate clients would be), then E
// ConfigMaps created one after another, straight at the API server; for every event, the time from
// just before its create call to the watcher reading it. Reports delivery p50/p99, events delivered, and the gateway's CPU
// and memory while it carries the watches.
//   npm run bench:watch -- [--watchers W] [--events E]
import { Agent, request, type RequestOptions } from 'node:https';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClientRequest } from 'node:http';
import { startControlPlane } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway } from '../hack/local-gateway.ts';
import { gatewayCpuSeconds, startGatewayProcess } from './gateway-process.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:watch -- [--watchers W] [--events E]');
const { values } = parseArgs({ options: { watchers: { type: 'string', default: '100' }, events: { type: 'string', default: '200' } } });
const WATCHERS = Number(values.watchers);
const EVENTS = Number(values.events);

interface Target { readonly base: string; readonly headers: Record<string, string>; readonly ca: Buffer }

/** Opens a watch; calls `seen(name)` for every ADDED event; resolves once the stream is open. */
function watch(target: Target, path: string, seen: (name: string) => void): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    // One connection per watcher, as separate clients would have.
    const options: RequestOptions = { agent: new Agent({ ca: target.ca, keepAlive: false }), headers: { ...target.headers, accept: 'application/json' } };
    const req = request(`${target.base}${path}`, options, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`watch ${path}: ${res.statusCode}`)); return; }
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        pending += text;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const event = JSON.parse(line) as { type: string; object: { metadata?: { name?: string } } };
          if (event.type === 'ADDED') seen(event.object.metadata?.name ?? '');
        }
      });
      resolve(req);
    });
    req.on('error', (e) => { if (!req.destroyed) reject(e); });
    req.end();
  });
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
}

/** Creates a ConfigMap with a POST (not kubectl: a blocking child process would stall the watchers' reads). */
function createConfigMap(target: Target & { agent: Agent }, namespace: string, name: string): Promise<void> {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
  return new Promise((resolve, reject) => {
    const req = request(`${target.base}/api/v1/namespaces/${namespace}/configmaps`, {
      method: 'POST', agent: target.agent, headers: { ...target.headers, 'content-type': 'application/json' },
    }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 201) resolve(); else reject(new Error(`create ${name}: ${res.statusCode}`)); });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const at = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function fanOut(target: Target, writer: Target & { agent: Agent }, kubectl: (args: string[]) => string, namespace: string): Promise<{ p50: number; p99: number; delivered: number }> {
  kubectl(['create', 'namespace', namespace]);
  const created = new Map<string, number>();
  const delays: number[] = [];
  const path = `/api/v1/namespaces/${namespace}/configmaps?watch=true&allowWatchBookmarks=false`;
  const watches = await Promise.all(Array.from({ length: WATCHERS }, () => watch(target, path, (name) => {
    const t = created.get(name);
    if (t !== undefined) delays.push(performance.now() - t);
  })));
  for (let i = 0; i < EVENTS; i++) {
    const name = `cm-${i}`;
    // Stamped before the call: an event may arrive before kubectl returns.
    created.set(name, performance.now());
    await createConfigMap(writer, namespace, name);
  }
  const deadline = Date.now() + 30_000;
  while (delays.length < WATCHERS * EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const req of watches) req.destroy();
  const sorted = [...delays].sort((a, b) => a - b);
  return { p50: at(sorted, 0.5), p99: at(sorted, 0.99), delivered: delays.length };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-watch-'));
  const cp = await startControlPlane({ dir, lifeline: true, removeOnStop: true });
  const kubectl = (args: string[]): string => execFileSync(cp.kubectlPath, args, { env: { ...process.env, KUBECONFIG: cp.kubeconfig } }).toString();
  kubectl(['apply', '--server-side', '-f', 'crds/']);
  kubectl(['wait', '--for=condition=Established', 'crd/accesspolicies.airlock.dev']);
  kubectl(['create', 'namespace', 'bench']);
  const gw = await startLocalGateway({ cluster: { dir, kubeconfig: cp.kubeconfig, kubectlPath: cp.kubectlPath }, name: 'bench', policyNamespace: 'bench', defaultAction: 'Allow', auditLevel: 'Metadata' });
  const user = `oidc:${CI_CLIENT.clientId}`;
  kubectl(['create', 'clusterrolebinding', 'bench-admin', '--clusterrole=cluster-admin', `--user=${user}`]);
  await gw.running.stop();
  const served = await startGatewayProcess(gw.dir, undefined);
  const ca = readFileSync(gw.caFile);
  const direct: Target = { base: cp.server, ca, headers: { authorization: `Bearer ${readFileSync(join(gw.dir, 'token'), 'utf8')}`, 'impersonate-user': user, 'impersonate-group': 'system:authenticated' } };
  const viaGateway: Target = { base: served.url, ca, headers: { authorization: `Bearer ${await gw.oidc.token(CI_CLIENT.clientId)}` } };
  // Writes always go straight to the API server, so only the delivery path differs.
  const writer = { ...direct, agent: new Agent({ ca, keepAlive: true }) };
  const d = await fanOut(direct, writer, kubectl, 'watch-direct');
  const idle = rssBytes(served.pid);
  const cpuBefore = await gatewayCpuSeconds(served.healthUrl);
  let peak = idle;
  const sampler = setInterval(() => { peak = Math.max(peak, rssBytes(served.pid)); }, 20);
  const g = await fanOut(viaGateway, writer, kubectl, 'watch-gateway');
  clearInterval(sampler);
  const cpu = (await gatewayCpuSeconds(served.healthUrl)) - cpuBefore;
  await served.stop();
  await gw.oidc.stop();
  await cp.stop();
  const fmt = (n: number): string => n.toFixed(1);
  console.log([
    `Watch fan-out: ${WATCHERS} watchers, ${EVENTS} ConfigMaps created one after another (${WATCHERS * EVENTS} deliveries expected):`,
    '| what | delivery p50 / p99 (ms) | delivered |',
    '|---|---|---|',
    `| direct | ${fmt(d.p50)} / ${fmt(d.p99)} | ${d.delivered} |`,
    `| through the gateway | ${fmt(g.p50)} / ${fmt(g.p99)} | ${g.delivered} |`,
    '',
    `Gateway while carrying the watches: CPU ${(cpu * 1000).toFixed(0)} ms for ${g.delivered} deliveries (${((cpu * 1e6) / Math.max(1, g.delivered)).toFixed(0)} µs each, opening the watches included), RSS ${(idle / 1048576).toFixed(0)} → ${(peak / 1048576).toFixed(0)} MiB (+${((peak - idle) / 1048576).toFixed(0)} MiB, ${((peak - idle) / 1024 / WATCHERS).toFixed(0)} KiB per watch).`,
  ].join('\n'));
}

await main();
