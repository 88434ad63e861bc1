// The library tests and the CLI use: build (or reuse) the binaries, start a control plane under a
// supervisor process, attach to a running one, stop it.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isOurProcess } from './process.ts';
import { readState, type ClusterState } from './state.ts';
import { waitFor } from './readiness.ts';

export { issueClientCertificate, issueServingCertificate, pkiPaths } from './pki.ts';
export { writeKubeconfig } from './kubeconfig.ts';
export { controlComponent, type ComponentName, type ControlAction } from './control.ts';
export type { ClusterState } from './state.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');

export interface Binaries {
  /** Cache directory keyed by versions, Go version and platform. */
  readonly root: string;
  readonly binDir: string;
  readonly stagesDir: string;
}

/** Builds the pinned binaries once per machine (minutes), then answers from the cache (instant). */
export async function ensureBinaries(): Promise<Binaries> {
  const child = spawn('bash', [join(repoRoot, 'hack', 'build-binaries.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`hack/build-binaries.sh failed (exit ${code}); its output is above`);
  const root = out.trim().split('\n').pop() ?? '';
  return { root, binDir: join(root, 'bin'), stagesDir: join(root, 'stages') };
}

export interface ControlPlane {
  readonly dir: string;
  readonly state: ClusterState;
  readonly kubeconfig: string;
  readonly server: string;
  readonly kubectlPath: string;
  readonly binDir: string;
  /** Stops every process the supervisor started and waits until they are gone. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly dir: string;
  /** Tie the control plane's life to this process (tests): it stops when we exit, however we exit. */
  readonly lifeline: boolean;
  /** Remove the directory after stop (tests use a temp dir). */
  readonly removeOnStop?: boolean;
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

export async function startControlPlane(options: StartOptions): Promise<ControlPlane> {
  const dir = resolve(options.dir);
  const existing = await readState(dir);
  if (existing !== undefined && alive(existing.supervisorPid) && existing.status === 'ready') {
    if (!options.lifeline) return attached(dir, existing, undefined, options);
    throw new Error(`a control plane is already running in ${dir} (pid ${existing.supervisorPid}); run "hack/cluster down"`);
  }
  if (existing !== undefined) await killLeftovers(existing);
  const binaries = await ensureBinaries();
  await mkdir(join(dir, 'logs'), { recursive: true });
  const supervisorLog = await open(join(dir, 'logs', 'supervisor.log'), 'a');
  const child = spawn(process.execPath, [
    join(here, 'supervisor.ts'), '--dir', dir, '--bin-dir', binaries.binDir, '--stages-dir', binaries.stagesDir,
    ...(options.lifeline ? ['--lifeline'] : []),
  ], { stdio: [options.lifeline ? 'pipe' : 'ignore', supervisorLog.fd, supervisorLog.fd], detached: true });
  await supervisorLog.close();
  if (!options.lifeline) child.unref();
  const state = await waitUntilReady(dir, child);
  return attached(dir, state, child, options);
}

async function waitUntilReady(dir: string, child: ChildProcess): Promise<ClusterState> {
  let state: ClusterState | undefined;
  await waitFor(async () => {
    state = await readState(dir);
    if (state?.status === 'failed') throw new FatalStart(state.message ?? 'failed');
    return state?.status === 'ready' && state.supervisorPid === child.pid;
  }, {
    what: 'local control plane',
    timeoutMs: 300_000,
    intervalMs: 200,
    abort: () => (child.exitCode !== null
      ? `supervisor exited (${child.exitCode}): ${state?.message ?? `see ${join(dir, 'logs', 'supervisor.log')}`}`
      : undefined),
  }).catch((error: unknown) => {
    child.kill('SIGTERM');
    throw error;
  });
  if (state === undefined) throw new Error('unreachable: ready without state');
  return state;
}

class FatalStart extends Error {}

function attached(dir: string, state: ClusterState, child: ChildProcess | undefined, options: StartOptions): ControlPlane {
  return {
    dir,
    state,
    kubeconfig: state.kubeconfig ?? join(dir, 'kubeconfig'),
    server: state.server ?? '',
    binDir: state.binDir,
    kubectlPath: join(state.binDir, 'kubectl'),
    stop: async () => {
      await stopSupervisor(dir, child);
      if (options.removeOnStop === true) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function stopSupervisor(dir: string, child: ChildProcess | undefined): Promise<void> {
  const state = await readState(dir);
  const pid = child?.pid ?? state?.supervisorPid;
  if (pid !== undefined && alive(pid)) {
    if (child?.stdin) child.stdin.end(); else process.kill(pid, 'SIGTERM');
    await waitFor(() => Promise.resolve(!alive(pid)), { what: 'supervisor exit', timeoutMs: 60_000, intervalMs: 100 })
      .catch(() => { process.kill(pid, 'SIGKILL'); });
  }
  const after = await readState(dir);
  if (after !== undefined) await killLeftovers(after);
}

/** Components whose supervisor died without stopping them (SIGKILL): stop them by recorded pid,
 * but only if the pid still runs one of our binaries from this cache. */
async function killLeftovers(state: ClusterState): Promise<void> {
  for (const pid of Object.values(state.pids)) {
    if (await isOurProcess(pid, state.binDir)) process.kill(pid, 'SIGKILL');
  }
}

/** Attaches to the control plane recorded in `dir`, if it is running and ready. */
export async function attachControlPlane(dir: string): Promise<ControlPlane | undefined> {
  const state = await readState(resolve(dir));
  if (state === undefined || state.status !== 'ready' || !alive(state.supervisorPid)) return undefined;
  return attached(resolve(dir), state, undefined, { dir, lifeline: false });
}

export async function stopControlPlane(dir: string): Promise<void> {
  await stopSupervisor(resolve(dir), undefined);
}

export async function kubectlVersion(binDir: string): Promise<string> {
  const { stdout } = await promisify(execFile)(join(binDir, 'kubectl'), ['version', '--client', '-o', 'json']);
  return (JSON.parse(stdout) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
}
