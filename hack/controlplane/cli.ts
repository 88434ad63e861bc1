// hack/cluster: the local control plane from a terminal.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { attachControlPlane, ensureBinaries, repoRoot, startControlPlane, stopControlPlane } from './index.ts';
import { readState } from './state.ts';
import { COMPONENTS, controlComponent, isComponent, type ControlAction } from './control.ts';
import { FIRST_BUILD_MINUTES } from './build-time.ts';

const USAGE = `usage: hack/cluster <command>

  up        build the binaries if needed (first time: about ${FIRST_BUILD_MINUTES} minutes on 2 cores), start the control plane, print how to use it
  down      stop every process of the control plane
  env       print shell exports: eval "$(hack/cluster env)" (KUBECONFIG; PATH with the pinned kubectl, kubectl airlock and the project's Node 24)
  status    print the state file
  logs [c]  print the log of a component (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, supervisor)
  stop|start|restart COMPONENT
            stop, start or restart one component (e.g. an API server outage); the others keep running
  build     build (or find in the cache) the binaries and print their directory
  kubectl … run the pinned kubectl against the control plane

The control plane lives in $AIRLOCK_CLUSTER_DIR (default: .airlock/cluster in the repository).`;

const dir = resolve(process.env['AIRLOCK_CLUSTER_DIR'] ?? join(repoRoot, '.airlock', 'cluster'));

async function up(): Promise<void> {
  const started = Date.now();
  const cp = await startControlPlane({ dir, lifeline: false });
  console.log(`control plane ready (${cp.state.startupMs ?? Date.now() - started} ms) at ${cp.server}`);
  console.log(`  export KUBECONFIG=${cp.kubeconfig}`);
  console.log(`  export PATH=${cp.binDir}:$PATH   # kubectl ${cp.binDir.split('/').pop() ?? ''}`);
  console.log(`  API server audit log: ${cp.state.auditLog ?? ''}`);
  console.log('  stop it with: hack/cluster down');
}

async function env(): Promise<void> {
  const cp = await attachControlPlane(dir);
  if (cp === undefined) fail('no control plane is running: start one with "hack/cluster up"');
  console.log(`export KUBECONFIG=${cp.kubeconfig}`);
  // The pinned kubectl; the plugin's launchers (`kubectl airlock`, `kubectl approve`); and the
  // project's Node 24, so that `node FILE.ts` works in this shell whatever the machine's Node is.
  console.log(`export PATH=${[cp.binDir, join(repoRoot, 'plugin', 'bin'), join(repoRoot, 'node_modules', '.bin')].join(':')}:$PATH`);
}

async function logs(component = 'supervisor'): Promise<void> {
  process.stdout.write(await readFile(join(dir, 'logs', `${component}.log`), 'utf8').catch(() =>
    fail(`no log for "${component}" in ${join(dir, 'logs')}`)));
}

async function kubectl(args: readonly string[]): Promise<void> {
  const cp = await attachControlPlane(dir);
  if (cp === undefined) fail('no control plane is running: start one with "hack/cluster up"');
  const result = spawnSync(cp.kubectlPath, args, { stdio: 'inherit', env: { ...process.env, KUBECONFIG: cp.kubeconfig } });
  process.exit(result.status ?? 1);
}

async function control(action: ControlAction, component: string | undefined): Promise<void> {
  if (component === undefined || !isComponent(component)) fail(`${action} needs a component: one of ${COMPONENTS.join(', ')}`);
  const result = await controlComponent(dir, action, component);
  if (!result.ok) fail(result.message);
  console.log(result.message);
}

function fail(message: string): never {
  console.error(`hack/cluster: ${message}`);
  process.exit(1);
}

const [command, ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'up': await up(); break;
    case 'down': await stopControlPlane(dir); console.log('control plane stopped'); break;
    case 'env': await env(); break;
    case 'status': console.log(JSON.stringify(await readState(dir) ?? { status: 'absent', dir }, null, 2)); break;
    case 'logs': await logs(rest[0]); break;
    case 'build': console.log((await ensureBinaries()).binDir); break;
    case 'kubectl': await kubectl(rest); break;
    case 'stop': case 'start': case 'restart': await control(command, rest[0]); break;
    case undefined: case '-h': case '--help': case 'help': console.log(USAGE); break;
    default: fail(`unknown command "${command}"; run "hack/cluster help"`);
  }
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
