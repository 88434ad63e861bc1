// hack/ leaves no orphans and no held ports: not after `hack/cluster down`, and not when the
// process that started a control plane is killed outright (an interrupted test run).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterState } from '../hack/controlplane/state.ts';

const repo = join(import.meta.dirname, '..');
const node = process.execPath;
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    await promisify(execFile)(join(repo, 'hack', 'cluster'), ['down'], { env: { ...process.env, AIRLOCK_CLUSTER_DIR: dir } }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-lifecycle-'));
  dirs.push(dir);
  return dir;
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

const portFree = (port: number): Promise<boolean> => new Promise((resolve) => {
  const server = createServer();
  server.once('error', () => { resolve(false); });
  server.listen(port, '127.0.0.1', () => server.close(() => { resolve(true); }));
});

async function expectAllGone(state: ClusterState): Promise<void> {
  const pids = [state.supervisorPid, ...Object.values(state.pids)];
  expect(Object.keys(state.pids).sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']);
  await expect.poll(() => pids.filter(alive), { timeout: 30_000, interval: 200 }).toEqual([]);
  const ports: number[] = state.ports === undefined ? [] : Object.values(state.ports);
  for (const port of ports) {
    expect(await portFree(port), `port ${port} still held`).toBe(true);
  }
}

describe('control plane lifecycle', () => {
  it('stops every component when the process that started it is killed with SIGKILL', async () => {
    const dir = await tempDir();
    const holder = spawn(node, [join(repo, 'e2e', 'fixtures', 'hold-control-plane.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: holder.stdout }).once('line', resolve);
      holder.once('exit', (code) => { reject(new Error(`holder exited ${code} before ready`)); });
    });
    const state = JSON.parse(firstLine) as ClusterState;
    expect(state.status).toBe('ready');
    expect([state.supervisorPid, ...Object.values(state.pids)].every(alive)).toBe(true);

    holder.kill('SIGKILL');
    await expectAllGone(state);
  });

  it('hack/cluster up starts a control plane that hack/cluster down stops completely', async () => {
    const dir = await tempDir();
    const env = { ...process.env, AIRLOCK_CLUSTER_DIR: dir };
    const cluster = (args: string[]): Promise<{ stdout: string }> => promisify(execFile)(join(repo, 'hack', 'cluster'), args, { env });
    const up = await cluster(['up']);
    expect(up.stdout).toMatch(/control plane ready \(\d+ ms\)/);
    expect(up.stdout).toContain(`export KUBECONFIG=${join(dir, 'kubeconfig')}`);
    const state = JSON.parse((await cluster(['status'])).stdout) as ClusterState;
    expect(state.status).toBe('ready');
    const nodes = await cluster(['kubectl', 'get', 'nodes', '-o', 'name']);
    expect(nodes.stdout.trim().split('\n')).toEqual(['node/kwok-node-0', 'node/kwok-node-1']);

    expect((await cluster(['down'])).stdout).toContain('control plane stopped');
    await expectAllGone(state);
    expect(JSON.parse((await cluster(['status'])).stdout)).toMatchObject({ status: 'stopped' });
  });
});
