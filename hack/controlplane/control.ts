// Asking a running supervisor to stop, start or restart one component (an API server outage for a
// test, a restart after a config change). The request is a file in DIR/control and a SIGUSR2 to the
// supervisor; its answer is a second file. Files, like state.json, so any process that can read the
// cluster's directory can ask, and a supervisor busy starting simply finds the request later.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readState } from './state.ts';
import { waitFor } from './readiness.ts';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type ComponentName = typeof COMPONENTS[number];
export type ControlAction = 'stop' | 'start' | 'restart';

export interface ControlRequest {
  readonly id: string;
  readonly action: ControlAction;
  readonly component: ComponentName;
}

export interface ControlResult {
  readonly id: string;
  readonly ok: boolean;
  readonly message: string;
}

const controlDir = (dir: string): string => join(dir, 'control');

export function isComponent(name: string): name is ComponentName {
  return (COMPONENTS as readonly string[]).includes(name);
}

/** Asks the supervisor of `dir` and waits for its answer (a restarted API server is ready when it returns). */
export async function controlComponent(dir: string, action: ControlAction, component: ComponentName, timeoutMs = 180_000): Promise<ControlResult> {
  const state = await readState(dir);
  if (state?.status !== 'ready') throw new Error(`no ready control plane in ${dir}`);
  const request: ControlRequest = { id: randomUUID(), action, component };
  await mkdir(controlDir(dir), { recursive: true });
  const tmp = join(controlDir(dir), `${request.id}.tmp`);
  await writeFile(tmp, JSON.stringify(request));
  await rename(tmp, join(controlDir(dir), `${request.id}.request.json`));
  process.kill(state.supervisorPid, 'SIGUSR2');
  const done = join(controlDir(dir), `${request.id}.done.json`);
  let result: ControlResult | undefined;
  await waitFor(async () => {
    result = await readFile(done, 'utf8').then((t) => JSON.parse(t) as ControlResult, () => undefined);
    return result !== undefined;
  }, { what: `${action} ${component}`, timeoutMs, intervalMs: 100 });
  await rm(done, { force: true });
  if (result === undefined) throw new Error('unreachable: done without a result');
  return result;
}

/** The supervisor's side: the requests waiting, oldest first, each taken off the queue as read. */
export async function takeRequests(dir: string): Promise<ControlRequest[]> {
  const names = (await readdir(controlDir(dir)).catch(() => [] as string[])).filter((n) => n.endsWith('.request.json')).sort();
  const requests: ControlRequest[] = [];
  for (const name of names) {
    const path = join(controlDir(dir), name);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    await rm(path, { force: true });
    if (text !== undefined) requests.push(JSON.parse(text) as ControlRequest);
  }
  return requests;
}

export async function answerRequest(dir: string, result: ControlResult): Promise<void> {
  const tmp = join(controlDir(dir), `${result.id}.answer.tmp`);
  await writeFile(tmp, JSON.stringify(result));
  await rename(tmp, join(controlDir(dir), `${result.id}.done.json`));
}
