// The control plane's state file: written by the supervisor, read by the library, the CLI and
// tests. It is the only channel between them, so `up` in one shell and `down` in another work.
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ports } from './components.ts';

export type ClusterStatus = 'starting' | 'ready' | 'failed' | 'stopping' | 'stopped';

export interface ClusterState {
  readonly status: ClusterStatus;
  readonly message?: string;
  readonly dir: string;
  readonly supervisorPid: number;
  readonly pids: Readonly<Record<string, number>>;
  readonly ports?: Ports;
  readonly server?: string;
  readonly kubeconfig?: string;
  readonly binDir: string;
  readonly auditLog?: string;
  readonly caCert?: string;
  readonly startedAt: string;
  readonly readyAt?: string;
  readonly startupMs?: number;
}

export const statePath = (dir: string): string => join(dir, 'state.json');

export async function readState(dir: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(dir), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Atomic replace, so a reader never sees half a file. */
export async function writeState(state: ClusterState): Promise<void> {
  const tmp = `${statePath(state.dir)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, statePath(state.dir));
}
