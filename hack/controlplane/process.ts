// Starting and stopping the component processes. Each writes to its own log file; stopping sends
// SIGTERM, then SIGKILL after a grace period, and waits for the exit so no port stays held.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Component } from './components.ts';

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

export function startProcess(component: Component, logDir: string): RunningProcess {
  const logFile = join(logDir, `${component.name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(component.command, [...component.args], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${component.name} (${component.command})`);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown'); });
    child.once('error', (error) => { resolve(error.message); });
  });
  return { name: component.name, pid: child.pid, logFile, child, exited };
}

export async function stopProcess(process: RunningProcess, graceMs = 10_000): Promise<void> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return;
  process.child.kill('SIGTERM');
  const timer = setTimeout(() => process.child.kill('SIGKILL'), graceMs);
  await process.exited;
  clearTimeout(timer);
}

/** True when a pid is alive and its command line mentions `marker` (guards against pid reuse). */
export async function isOurProcess(pid: number, marker: string): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}
