// Masking a large LIST: 10k Secrets through the gateway (masked, streamed) vs direct, on the local
// control plane; time ratio and the gateway process's memory growth above idle.
//   npm run bench:masking -- [--secrets N] [--rounds R] [--profile DIR]   (--profile: the gateway's CPU profile)
import { Agent, request } from 'node:https';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../hack/controlplane/index.ts';
import { CI_CLIENT, startLocalGateway } from '../hack/local-gateway.ts';
import { gatewayCpuSeconds, startGatewayProcess } from './gateway-process.ts';
import { printUsageOnHelp } from './usage.ts';

printUsageOnHelp('npm run bench:masking -- [--secrets N] [--rounds R] [--profile DIR]');
const { values } = parseArgs({ options: { secrets: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '15' }, profile: { type: 'string' } } });
const SECRETS = Number(values.secrets);
const ROUNDS = Number(values.rounds);

interface Target { readonly base: string; readonly headers: Record<string, string>; readonly agent: Agent }

function list(target: Target, path: string): Promise<{ ms: number; bytes: number; body: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${target.base}${path}`, { agent: target.agent, headers: { ...target.headers, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode !== 200) reject(new Error(`LIST ${path}: ${res.statusCode}`));
        else resolve({ ms: performance.now() - started, bytes: body.length, body: body.subarray(0, 2000).toString() });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-mask-'));
  const cp = await startControlPlane({ dir, lifeline: true, removeOnStop: true });
  const kubectl = (args: string[], input?: string): string => execFileSync(cp.kubectlPath, args, { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, input, maxBuffer: 512 * 1024 * 1024 }).toString();
  kubectl(['apply', '--server-side', '-f', 'crds/']);
  kubectl(['wait', '--for=condition=Established', 'crd/accesspolicies.airlock.dev']);
  kubectl(['create', 'namespace', 'bench']);
  for (let from = 0; from < SECRETS; from += 1000) {
    const items = Array.from({ length: Math.min(1000, SECRETS - from) }, (_, i) => ({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${from + i}`, namespace: 'bench' },
      data: { password: Buffer.from(`secret-${from + i}-${'x'.repeat(1000)}`).toString('base64'), user: Buffer.from('app').toString('base64') },
    }));
    kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  }
  const gw = await startLocalGateway({ cluster: { dir, kubeconfig: cp.kubeconfig, kubectlPath: cp.kubectlPath }, name: 'bench', policyNamespace: 'bench', defaultAction: 'Allow', auditLevel: 'Metadata' });
  kubectl(['create', 'clusterrolebinding', 'bench-admin', '--clusterrole=cluster-admin', `--user=oidc:${CI_CLIENT.clientId}`]);
  await gw.running.stop();
  const served = await startGatewayProcess(gw.dir, values.profile);
  const ca = readFileSync(gw.caFile);
  const gatewayToken = readFileSync(join(gw.dir, 'token'), 'utf8');
  const direct: Target = { base: cp.server, agent: new Agent({ ca, keepAlive: true }), headers: { authorization: `Bearer ${gatewayToken}`, 'impersonate-user': `oidc:${CI_CLIENT.clientId}` } };
  const viaGateway: Target = { base: served.url, agent: new Agent({ ca, keepAlive: true }), headers: { authorization: `Bearer ${await gw.oidc.token(CI_CLIENT.clientId)}` } };
  const path = '/api/v1/namespaces/bench/secrets';
  await list(direct, path);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idle = rssBytes(served.pid);
  let peak = idle;
  const sampler = setInterval(() => { peak = Math.max(peak, rssBytes(served.pid)); }, 20);
  const cpuBefore = await gatewayCpuSeconds(served.healthUrl);
  const directMs: number[] = [];
  const gatewayMs: number[] = [];
  let bytes = 0;
  let sample = '';
  for (let round = 0; round < ROUNDS; round++) {
    directMs.push((await list(direct, path)).ms);
    const masked = await list(viaGateway, path);
    gatewayMs.push(masked.ms);
    bytes = masked.bytes;
    sample = masked.body;
  }
  clearInterval(sampler);
  const cpuPerList = (await gatewayCpuSeconds(served.healthUrl) - cpuBefore) / ROUNDS * 1000;
  await served.stop();
  await gw.oidc.stop();
  await cp.stop();
  // Each round pairs a direct LIST with one through the gateway, back to back: the median of the
  // per-round ratios is steadier than a ratio of medians on a shared machine.
  const ratio = median(gatewayMs.map((ms, i) => ms / (directMs[i] ?? Number.NaN)));
  console.log([
    `LIST of ${SECRETS} Secrets (${(bytes / 1048576).toFixed(1)} MiB of JSON), ${ROUNDS} rounds, medians:`,
    `  direct ${median(directMs).toFixed(0)} ms, through the gateway (masked) ${median(gatewayMs).toFixed(0)} ms; median per-round ratio ${ratio.toFixed(2)}x (target ≤ 1.5x: ${ratio <= 1.5 ? 'met' : 'not met'})`,
    `  gateway RSS idle ${(idle / 1048576).toFixed(0)} MiB, peak ${(peak / 1048576).toFixed(0)} MiB: +${((peak - idle) / 1048576).toFixed(0)} MiB (target ≤ 64 MiB: ${peak - idle <= 64 * 1048576 ? 'met' : 'not met'})`,
    `  gateway CPU per masked LIST: ${cpuPerList.toFixed(0)} ms`,
    `  masked: ${sample.includes('KioqTUFTS0VEKioq') ? 'yes' : 'NO'}`,
  ].join('\n'));
}

await main();
