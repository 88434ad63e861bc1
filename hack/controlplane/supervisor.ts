// The supervisor: one process that owns every component of a local control plane. It starts them
// in order, waits for each to be ready, records pids and ports in state.json, and stops them all
// on SIGTERM/SIGINT/SIGHUP or (with --lifeline) when its parent goes away and stdin closes. That
// last rule is what leaves no orphans when a test run is killed. A component that dies is started
// again (at most three times a minute; then everything stops), and one component can be stopped,
// started or restarted on request (control.ts: `hack/cluster restart kube-apiserver`), so outages
// can be tested without losing the cluster.
//
//   node hack/controlplane/supervisor.ts --dir DIR --bin-dir BIN --stages-dir STAGES [--lifeline]
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  AUDIT_POLICY, auditLogPath, auditPolicyPath, etcd, kubeApiserver, kubeControllerManager, kubeScheduler,
  kwok, kwokAttachFile, kwokConfigPath, kwokLogsFile, kwokSimulation, type Layout,
} from './components.ts';
import { ensurePki, issueClientCertificate } from './pki.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { allocatePorts, advertiseAddress } from './network.ts';
import { startProcess, stopProcess, type RunningProcess } from './process.ts';
import type { Component } from './components.ts';
import { httpGet, waitFor } from './readiness.ts';
import { writeState, type ClusterState } from './state.ts';
import { bootstrapCluster } from './bootstrap.ts';
import { answerRequest, takeRequests, type ComponentName, type ControlRequest } from './control.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'bin-dir': { type: 'string' },
    'stages-dir': { type: 'string' },
    lifeline: { type: 'boolean', default: false },
  },
});
const dir = required(values.dir, '--dir');
const binDir = required(values['bin-dir'], '--bin-dir');
const stagesDir = required(values['stages-dir'], '--stages-dir');

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new TypeError(`supervisor: ${flag} is required`);
  return value;
}

const log = (message: string): void => { process.stdout.write(`${new Date().toISOString()} ${message}\n`); };
const startedAt = new Date();
let state: ClusterState = { status: 'starting', dir, supervisorPid: process.pid, pids: {}, binDir, startedAt: startedAt.toISOString() };
let stopping: Promise<void> | undefined;

interface Supervised {
  readonly spec: Component;
  /** Resolves when the component serves (etcd and the API server are probed; others at once). */
  readonly ready: (proc: RunningProcess) => Promise<void>;
  proc: RunningProcess | undefined;
  /** Stopped on request: its exit is expected, and it stays down until started. */
  held: boolean;
  /** When it died unexpectedly, for the restart budget. */
  deaths: number[];
}

/** Every component, in start order; stopped in reverse. */
const components = new Map<string, Supervised>();
const RESTARTS_PER_MINUTE = 3;

async function update(patch: Partial<ClusterState>): Promise<void> {
  const pids: Record<string, number> = {};
  for (const [name, c] of components) if (c.proc !== undefined && !c.held) pids[name] = c.proc.pid;
  state = { ...state, ...patch, pids };
  await writeState(state);
}

function watchExit(entry: Supervised, proc: RunningProcess): void {
  void proc.exited.then((code) => {
    if (stopping !== undefined || entry.held || entry.proc !== proc) return;
    const now = Date.now();
    entry.deaths = [...entry.deaths.filter((t) => now - t < 60_000), now];
    if (entry.deaths.length > RESTARTS_PER_MINUTE) {
      void shutdown(`${proc.name} exited (${code}) ${entry.deaths.length} times in a minute; see ${proc.logFile}`, 'failed');
      return;
    }
    log(`${proc.name} exited unexpectedly (${code}); starting it again (see ${proc.logFile})`);
    void run(entry).catch((error: unknown) => { void shutdown(`${proc.name} could not be started again: ${String(error)}`, 'failed'); });
  });
}

/** Starts a component's process and waits until it serves. */
async function run(entry: Supervised): Promise<void> {
  const proc = startProcess(entry.spec, join(dir, 'logs'));
  entry.proc = proc;
  entry.held = false;
  log(`started ${proc.name} pid ${proc.pid}`);
  watchExit(entry, proc);
  await update({});
  await entry.ready(proc);
}

async function launch(spec: Component, ready: (proc: RunningProcess) => Promise<void> = () => Promise.resolve()): Promise<void> {
  const entry: Supervised = { spec, ready, proc: undefined, held: false, deaths: [] };
  components.set(spec.name, entry);
  await run(entry);
}

const deadOf = (proc: RunningProcess) => (): string | undefined =>
  proc.child.exitCode !== null ? `exited with ${proc.child.exitCode}; see ${proc.logFile}` : undefined;

/** Carries out one stop/start/restart request. */
async function control(request: ControlRequest): Promise<string> {
  const entry = components.get(request.component satisfies ComponentName);
  if (entry === undefined) throw new Error(`no component "${request.component}"`);
  if (request.action !== 'start' && entry.proc !== undefined && !entry.held) {
    entry.held = true;
    await stopProcess(entry.proc);
    await update({});
    log(`stopped ${request.component} on request`);
  }
  if (request.action === 'stop') return `${request.component} stopped`;
  if (!entry.held && entry.proc?.child.exitCode === null) return `${request.component} is already running`;
  await run(entry);
  log(`${request.component} running again on request`);
  return `${request.component} running (pid ${entry.proc?.pid ?? '?'})`;
}

let controlling = Promise.resolve();
function serveControlRequests(): void {
  controlling = controlling.then(async () => {
    for (const request of await takeRequests(dir)) {
      const result = await control(request).then((message) => ({ ok: true, message }), (error: unknown) => ({ ok: false, message: String(error) }));
      await answerRequest(dir, { id: request.id, ...result });
    }
  }).catch((error: unknown) => { log(`control request failed: ${String(error)}`); });
}

async function prepare(): Promise<Layout> {
  await rm(join(dir, 'etcd'), { recursive: true, force: true });
  for (const sub of ['logs', 'audit', 'kwok']) await mkdir(join(dir, sub), { recursive: true });
  const address = advertiseAddress();
  const pki = await ensurePki({ dir: join(dir, 'pki'), servingIps: [address] });
  const ports = await allocatePorts();
  const layout: Layout = { dir, binDir, stagesDir, pki, ports, advertiseAddress: address, adminKubeconfig: join(dir, 'kubeconfig') };
  const admin = await issueClientCertificate(pki, 'airlock-admin', ['system:masters']);
  await writeKubeconfig(layout.adminKubeconfig, {
    server: `https://127.0.0.1:${ports.apiserver}`, caCertFile: pki.caCert, user: 'airlock-admin',
    clientCertFile: admin.cert, clientKeyFile: admin.key,
  });
  await writeFile(auditPolicyPath(layout), AUDIT_POLICY);
  await writeFile(kwokConfigPath(layout), kwokSimulation(layout));
  // kwok serves this file as every container's log; it must be in the CRI log format.
  await writeFile(kwokLogsFile(layout), `${new Date().toISOString()} stdout F airlock local control plane: simulated container log\n`);
  await writeFile(kwokAttachFile(layout), `${new Date().toISOString()} stdout F airlock local control plane: attached\n`);
  await update({ ports, server: `https://127.0.0.1:${ports.apiserver}`, kubeconfig: layout.adminKubeconfig, auditLog: auditLogPath(layout), caCert: pki.caCert });
  return layout;
}

async function start(): Promise<void> {
  const layout = await prepare();
  await launch(etcd(layout), (proc) => waitFor(async () => (await httpGet(`http://127.0.0.1:${layout.ports.etcdClient}/health`)).status === 200,
    { what: 'etcd', timeoutMs: 60_000, abort: deadOf(proc) }));
  log('etcd ready');
  const admin = { caFile: layout.pki.caCert, certFile: join(layout.pki.dir, 'user-airlock-admin.crt'), keyFile: join(layout.pki.dir, 'user-airlock-admin.key') };
  await launch(kubeApiserver(layout), (proc) => waitFor(async () => (await httpGet(`https://127.0.0.1:${layout.ports.apiserver}/readyz`, admin)).status === 200,
    { what: 'kube-apiserver', timeoutMs: 120_000, abort: deadOf(proc) }));
  log('kube-apiserver ready');
  await launch(kubeControllerManager(layout));
  await launch(kubeScheduler(layout));
  await launch(kwok(layout));
  await bootstrapCluster({ kubectl: join(binDir, 'kubectl'), kubeconfig: layout.adminKubeconfig, log });
  const readyAt = new Date();
  await update({ status: 'ready', readyAt: readyAt.toISOString(), startupMs: readyAt.getTime() - startedAt.getTime() });
  log(`control plane ready in ${readyAt.getTime() - startedAt.getTime()} ms`);
  // Requests written while the control plane was still starting.
  serveControlRequests();
}

async function shutdown(reason: string, final: 'stopped' | 'failed'): Promise<void> {
  stopping ??= (async () => {
    log(`stopping: ${reason}`);
    await update({ status: 'stopping', message: reason }).catch(() => undefined);
    for (const entry of [...components.values()].reverse()) {
      entry.held = true;
      if (entry.proc !== undefined) await stopProcess(entry.proc);
    }
    await update({ status: final, message: reason }).catch(() => undefined);
    log('stopped');
  })();
  await stopping;
  process.exit(final === 'failed' ? 1 : 0);
}

// Registered at once: SIGUSR2's default action would end the supervisor.
process.on('SIGUSR2', () => { if (state.status === 'ready') serveControlRequests(); });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(`received ${signal}`, 'stopped'));
}
if (values.lifeline) {
  // The parent holds the write end of our stdin; when it exits for any reason, we see EOF.
  process.stdin.on('end', () => void shutdown('parent process went away (stdin closed)', 'stopped'));
  process.stdin.on('error', () => void shutdown('parent process went away (stdin error)', 'stopped'));
  process.stdin.resume();
}

await writeState(state);
start().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  void shutdown(`start failed: ${message}`, 'failed');
});
