// The supervisor: one process that owns every component of a local control plane. It starts them
// in order, waits for each to be ready, records pids and ports in state.json, and stops them all
// on SIGTERM/SIGINT/SIGHUP, when a component dies, or (with --lifeline) when its parent goes away
// and stdin closes. That last rule is what leaves no orphans when a test run is killed.
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
import { httpGet, waitFor } from './readiness.ts';
import { writeState, type ClusterState } from './state.ts';
import { bootstrapCluster } from './bootstrap.ts';

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
const running: RunningProcess[] = [];
const startedAt = new Date();
let state: ClusterState = { status: 'starting', dir, supervisorPid: process.pid, pids: {}, binDir, startedAt: startedAt.toISOString() };
let stopping: Promise<void> | undefined;

async function update(patch: Partial<ClusterState>): Promise<void> {
  state = { ...state, ...patch, pids: Object.fromEntries(running.map((p) => [p.name, p.pid])) };
  await writeState(state);
}

function launch(component: ReturnType<typeof etcd>): RunningProcess {
  const proc = startProcess(component, join(dir, 'logs'));
  running.push(proc);
  log(`started ${proc.name} pid ${proc.pid}`);
  void proc.exited.then((code) => {
    if (stopping === undefined) {
      log(`${proc.name} exited unexpectedly (${code}); see ${proc.logFile}`);
      void shutdown(`${proc.name} exited (${code}); see ${proc.logFile}`, 'failed');
    }
  });
  return proc;
}

const deadOf = (proc: RunningProcess) => (): string | undefined =>
  proc.child.exitCode !== null ? `exited with ${proc.child.exitCode}; see ${proc.logFile}` : undefined;

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
  const etcdProc = launch(etcd(layout));
  await waitFor(async () => (await httpGet(`http://127.0.0.1:${layout.ports.etcdClient}/health`)).status === 200,
    { what: 'etcd', timeoutMs: 60_000, abort: deadOf(etcdProc) });
  log('etcd ready');
  const api = launch(kubeApiserver(layout));
  const admin = { caFile: layout.pki.caCert, certFile: join(layout.pki.dir, 'user-airlock-admin.crt'), keyFile: join(layout.pki.dir, 'user-airlock-admin.key') };
  await waitFor(async () => (await httpGet(`https://127.0.0.1:${layout.ports.apiserver}/readyz`, admin)).status === 200,
    { what: 'kube-apiserver', timeoutMs: 120_000, abort: deadOf(api) });
  log('kube-apiserver ready');
  launch(kubeControllerManager(layout));
  launch(kubeScheduler(layout));
  launch(kwok(layout));
  await bootstrapCluster({ kubectl: join(binDir, 'kubectl'), kubeconfig: layout.adminKubeconfig, log });
  const readyAt = new Date();
  await update({ status: 'ready', readyAt: readyAt.toISOString(), startupMs: readyAt.getTime() - startedAt.getTime() });
  log(`control plane ready in ${readyAt.getTime() - startedAt.getTime()} ms`);
}

async function shutdown(reason: string, final: 'stopped' | 'failed'): Promise<void> {
  stopping ??= (async () => {
    log(`stopping: ${reason}`);
    await update({ status: 'stopping', message: reason }).catch(() => undefined);
    for (const proc of [...running].reverse()) await stopProcess(proc);
    await update({ status: final, message: reason }).catch(() => undefined);
    log('stopped');
  })();
  await stopping;
  process.exit(final === 'failed' ? 1 : 0);
}

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
