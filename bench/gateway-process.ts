// The gateway as its own Node process for benchmarks (as in a pod), started from the config file
// hack/local-gateway.ts wrote, so the load generator never shares the gateway's event loop.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { GATEWAY_NODE_FLAGS } from '../core/config/gateway-runtime-flags.ts';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0); });
    });
  });
}

export async function gatewayCpuSeconds(healthUrl: string): Promise<number> {
  const text = await (await fetch(`${healthUrl}/metrics`)).text();
  return Number(/^airlock_gateway_process_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? 'NaN');
}

export interface GatewayProcess { readonly url: string; readonly healthUrl: string; readonly pid: number; stop(): Promise<void> }

/**
 * Re-runs the local gateway's own config file in a separate `node gateway/main.ts` process, with
 * the flags a pod runs it with (or bench/bare-proxy.ts from the same file, with `bareAs`).
 */
export async function startGatewayProcess(dir: string, profileDir: string | undefined, options: { cpus?: string | undefined; bareAs?: string | undefined } = {}): Promise<GatewayProcess> {
  const { cpus, bareAs } = options;
  const config = parse(readFileSync(join(dir, 'gateway.yaml'), 'utf8')) as { listen: { port: number }; health: { port: number } };
  config.listen.port = await freePort();
  config.health.port = await freePort();
  const file = join(dir, 'gateway-process.yaml');
  await writeFile(file, stringify(config));
  const flags = [...GATEWAY_NODE_FLAGS, ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`])];
  // `bareAs`: bench/bare-proxy.ts instead of the gateway, forwarding as that user (the floor).
  const args = bareAs === undefined ? [...flags, 'gateway/main.ts', '--config', file] : [...flags, 'bench/bare-proxy.ts', '--config', file, '--user', bareAs];
  // With `cpus`, the gateway runs only on those CPUs (taskset), as a pod with its own cores would.
  const child: ChildProcess = cpus === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const healthUrl = `http://127.0.0.1:${config.health.port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`gateway process exited with ${child.exitCode}`);
    const ready = await fetch(`${healthUrl}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `https://127.0.0.1:${config.listen.port}`,
    pid: child.pid ?? 0,
    healthUrl,
    stop: () => new Promise((resolve) => { child.once('exit', () => { resolve(); }); child.kill('SIGTERM'); }),
  };
}

/**
 * `--pin A:B`: this process and everything it starts from now on (the control plane, the load
 * generator) run on CPUs A, the gateway on CPUs B; returns B. Without it, everyone shares every CPU.
 */
export function pinCpus(pin: string | undefined): string | undefined {
  if (pin === undefined) return undefined;
  const [rest, gateway] = pin.split(':');
  if (rest === undefined || rest === '' || gateway === undefined || gateway === '') throw new Error(`--pin wants OTHERS:GATEWAY CPU lists, e.g. 0:1; got ${pin}`);
  execFileSync('taskset', ['-a', '-cp', rest, String(process.pid)], { stdio: 'ignore' });
  return gateway;
}
