// The pieces of bench/scale.ts: the objects it creates, how it counts the operator's API requests
// (the API server's own audit log), reads a process's memory, runs the operator as a child process,
// and times requests through the gateway.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { freePort } from './gateway-process.ts';
import { OPERATOR_NODE_FLAGS } from '../operator/runtime-flags.ts';

export const SCALE_NS = 'scale';
export const TARGET_NS = 'bench';
/** What the bench's own caller reads through the gateway. */
export const TARGET_PATH = `/api/v1/namespaces/${TARGET_NS}/configmaps/settings`;

export interface Obj { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> }

/** Policy `i` of the fleet: its own subject, 10 rules of every kind the compiler handles. */
export function fleetPolicy(i: number, revision = 0): Obj {
  const team = `team-${i % 50}`;
  const rules = Array.from({ length: 10 }, (_, r) => {
    const base = { name: `rule-${r}`, match: { verbs: revision % 2 === 0 ? ['get', 'list', 'watch'] : ['get', 'list'], apiGroups: [r % 2 === 0 ? '' : 'apps'], resources: [r % 3 === 0 ? 'configmaps' : r % 3 === 1 ? 'deployments' : 'pods/log'], namespaces: [team, `${team}-staging`] } };
    if (r === 9) return { ...base, action: 'Deny', message: `rule ${r} of policy ${i}` };
    if (r % 4 === 1) return { ...base, action: 'Allow', mask: { fields: ['.data.password', '.spec.template.spec.containers[*].env[*].value'] } };
    return { ...base, action: 'Allow' };
  });
  return {
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy',
    metadata: { name: `fleet-${String(i).padStart(4, '0')}`, namespace: SCALE_NS, labels: { fleet: 'true' } },
    spec: { subjects: [{ claim: { name: 'repository', value: `acme/service-${i}` } }, { group: { name: `${team}-oncall` } }], rules },
  };
}

/** Lets the bench's CI identity read the target namespace, as one of the fleet. */
export function benchCallerPolicy(): Obj {
  return {
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy',
    metadata: { name: 'bench-caller', namespace: SCALE_NS, labels: { fleet: 'true' } },
    spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules: [{ name: 'read', match: { verbs: ['get', 'list'], resources: ['configmaps'], namespaces: [TARGET_NS] }, action: 'Allow' }] },
  };
}

export function denyPolicy(name: string): Obj {
  return {
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessPolicy',
    metadata: { name, namespace: SCALE_NS },
    spec: { subjects: [{ claim: { name: 'repository', value: 'acme/payments' } }], rules: [{ name: 'freeze', match: { resources: ['configmaps'], namespaces: [TARGET_NS] }, action: 'Deny', message: 'frozen by the bench' }] },
  };
}

export function fleetGateway(i: number): Obj {
  return {
    apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway',
    metadata: { name: `gw-${String(i).padStart(2, '0')}`, namespace: SCALE_NS },
    spec: { replicas: 1, policySelector: { matchLabels: { fleet: 'true' } } },
  };
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  }));
}

interface AuditLine { stage?: string; verb?: string; user?: { username?: string }; objectRef?: { resource?: string; subresource?: string }; responseStatus?: { code?: number } }

export interface RequestCount { readonly total: number; readonly writes: number; readonly statusWrites: number; readonly byVerb: Record<string, number> }

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Counts one user's requests in the API server's audit log from a byte offset on. */
export class AuditCounter {
  private readonly file: string;
  private readonly user: string;
  constructor(file: string, user: string) { this.file = file; this.user = user; }

  /** The log's current end, to count from. */
  mark(): number { return readFileSync(this.file).length; }

  since(offset: number): RequestCount {
    const text = readFileSync(this.file).subarray(offset).toString('utf8');
    const byVerb: Record<string, number> = {};
    let total = 0;
    let writes = 0;
    let statusWrites = 0;
    for (const event of this.events(text)) {
      const verb = event.verb ?? '?';
      total += 1;
      const name = `${verb} ${event.objectRef?.resource ?? ''}${event.objectRef?.subresource === undefined ? '' : `/${event.objectRef.subresource}`}`;
      byVerb[name] = (byVerb[name] ?? 0) + 1;
      if (WRITE_VERBS.has(verb)) writes += 1;
      if (WRITE_VERBS.has(verb) && event.objectRef?.subresource === 'status') statusWrites += 1;
    }
    return { total, writes, statusWrites, byVerb };
  }

  /** This user's completed requests other than watches. */
  private events(text: string): AuditLine[] {
    return text.split('\n').filter((line) => line.includes(this.user)).map((line) => JSON.parse(line) as AuditLine)
      .filter((e) => e.stage === 'ResponseComplete' && e.user?.username === this.user && e.verb !== 'watch');
  }
}

/** Resident memory now and at its peak, MiB (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 'NaN');
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}


const children = new Set<number>();
process.once('exit', () => { for (const pid of children) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ } } });

/** Kills `pid` when this process exits however it exits (a failed phase must not leave an operator or gateway running). */
export function killOnExit(pid: number): void { children.add(pid); }

export interface OperatorProcess { readonly pid: number; readonly logFile: string; readonly healthUrl: string; readonly metricsUrl: string; lines(): number; stop(): Promise<void> }

/**
 * `node operator/main.ts` as `npm run operator` runs it, with the operator's Node flags (or
 * `entry`, e.g. the image's dist/operator/main.js; `nodeFlags`), logging to `logFile` (appended).
 */
export async function startOperator(options: { kubeconfig: string; logFile: string; nodeFlags?: readonly string[]; entry?: string }): Promise<OperatorProcess> {
  const health = await freePort();
  const metrics = await freePort();
  const out = openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? OPERATOR_NODE_FLAGS), options.entry ?? 'operator/main.ts'], {
    env: { ...process.env, KUBECONFIG: options.kubeconfig, POD_NAMESPACE: 'airlock-system', AIRLOCK_LEADER_ELECTION: 'false', AIRLOCK_HEALTH_ADDRESS: `127.0.0.1:${health}`, AIRLOCK_METRICS_ADDRESS: `127.0.0.1:${metrics}` },
    stdio: ['ignore', out, out],
  });
  killOnExit(child.pid ?? 0);
  const healthUrl = `http://127.0.0.1:${health}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode}; see ${options.logFile}`);
    if (await fetch(`${healthUrl}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid ?? 0,
    logFile: options.logFile,
    healthUrl,
    metricsUrl: `http://127.0.0.1:${metrics}`,
    lines: () => readFileSync(options.logFile, 'utf8').split('\n').filter((l) => l !== '').length,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => { resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

export interface Caller { get(path?: string): Promise<{ status: number; ms: number }> }

/** One keep-alive connection's worth of GETs through the gateway with a bearer token. */
export function gatewayCaller(url: string, ca: Buffer, token: string): Caller {
  return caller(url, new Agent({ keepAlive: true, maxSockets: 4, ca }), { authorization: `Bearer ${token}` });
}

/** The same GETs straight to the API server with a client certificate: what the API server itself takes. */
export function directCaller(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Caller {
  return caller(url, new Agent({ keepAlive: true, maxSockets: 4, ...tls }), {});
}

function caller(url: string, agent: Agent, headers: Record<string, string>): Caller {
  return {
    get: (path = TARGET_PATH) => new Promise((resolve) => {
      const started = performance.now();
      const req = request(`${url}${path}`, { agent, headers, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }); });
      });
      req.on('error', () => { resolve({ status: 0, ms: performance.now() - started }); });
      req.on('timeout', () => { req.destroy(); });
      req.end();
    }),
  };
}

export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it is true; the time it took, or Infinity after `timeoutMs`. */
export async function timeUntil(check: () => Promise<boolean>, options: { timeoutMs: number; intervalMs: number }): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < options.timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(options.intervalMs);
  }
  return Infinity;
}
