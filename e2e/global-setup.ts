// Starts the real local control plane once per e2e run (or uses one given by
// AIRLOCK_E2E_KUBECONFIG) and hands its coordinates to the tests through vitest's provide/inject.
// The supervisor is tied to this process by a pipe: if the run is interrupted or killed, every
// component stops and no port stays held.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { attachControlPlane, ensureBinaries, startControlPlane } from '../hack/controlplane/index.ts';
import { startK3s } from './providers/k3s.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    kubectlPath: string;
    /** kube-apiserver's own audit log, when the provider exposes it ('' otherwise). */
    auditLog: string;
    /** Directory of the local control plane (PKI, logs), '' for other providers. */
    clusterDir: string;
    provider: string;
  }
}

const log = (message: string): void => { process.stderr.write(`[e2e] ${message}\n`); };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await ensureBinaries();
  const kubectlPath = join(binaries.binDir, 'kubectl');
  const sharedDir = process.env['AIRLOCK_E2E_CLUSTER_DIR'];
  if (sharedDir !== undefined && sharedDir !== '') {
    // A control plane started by `hack/cluster up` (state dir .airlock/cluster), shared by several runs.
    const cp = await attachControlPlane(sharedDir);
    if (cp === undefined) throw new Error(`no running control plane in AIRLOCK_E2E_CLUSTER_DIR=${sharedDir}; run hack/cluster up`);
    log(`using the running control plane in ${sharedDir} at ${cp.server}`);
    provideAll(project, { kubeconfig: cp.kubeconfig, kubectlPath, auditLog: cp.state.auditLog ?? '', clusterDir: sharedDir, provider: 'local' });
    return () => Promise.resolve();
  }
  const given = process.env['AIRLOCK_E2E_KUBECONFIG'];
  if (given !== undefined && given !== '') {
    log(`using the cluster in AIRLOCK_E2E_KUBECONFIG=${given}`);
    provideAll(project, { kubeconfig: given, kubectlPath, auditLog: '', clusterDir: '', provider: 'given' });
    return () => Promise.resolve();
  }
  if (process.env['AIRLOCK_E2E_PROVIDER'] === 'k3s') {
    const k3s = await startK3s();
    provideAll(project, { kubeconfig: k3s.kubeconfig, kubectlPath, auditLog: '', clusterDir: '', provider: 'k3s' });
    return k3s.stop;
  }
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'airlock-e2e-'));
  const keep = process.env['AIRLOCK_KEEP_CLUSTER'] === '1';
  const cp = await startControlPlane({ dir, lifeline: true, removeOnStop: !keep });
  log(`local control plane ready in ${Date.now() - started} ms (components ${cp.state.startupMs ?? '?'} ms) at ${cp.server}; dir ${dir}`);
  provideAll(project, { kubeconfig: cp.kubeconfig, kubectlPath, auditLog: cp.state.auditLog ?? '', clusterDir: dir, provider: 'local' });
  return async () => {
    await cp.stop();
    log(`local control plane stopped${keep ? ` (kept ${dir})` : ''}`);
  };
}

function provideAll(project: TestProject, values: {
  kubeconfig: string; kubectlPath: string; auditLog: string; clusterDir: string; provider: string;
}): void {
  project.provide('kubeconfig', values.kubeconfig);
  project.provide('kubectlPath', values.kubectlPath);
  project.provide('auditLog', values.auditLog);
  project.provide('clusterDir', values.clusterDir);
  project.provide('provider', values.provider);
}
