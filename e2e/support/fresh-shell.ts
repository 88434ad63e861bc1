// A shell as a new user has it on a fresh machine: the machine's own PATH (its Node, whatever
// version, and none of the project's node_modules/.bin), HOME, and the few variables a test needs
// to keep its control plane and files apart. Commands run through bash, as a user types them.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ShellResult {
  readonly code: number;
  readonly output: string;
}

export interface FreshShell {
  readonly env: Readonly<Record<string, string>>;
  /** Runs `command` in bash to its end (or `timeoutMs`), stdout and stderr together. */
  run(command: string, options?: { timeoutMs?: number; env?: Record<string, string> }): Promise<ShellResult>;
  /**
   * Starts a long-running `command` in its own process group; resolves once its output matches
   * `ready` (with the output so far). `stop()` sends `signal` to the whole group and waits.
   */
  start(command: string, ready: RegExp, timeoutMs?: number): Promise<{ output: () => string; stop(signal?: NodeJS.Signals): Promise<number> }>;
}

const PASSED_THROUGH = ['HOME', 'USER', 'LANG', 'GOPATH', 'GOCACHE', 'GOMODCACHE', 'GOFLAGS', 'XDG_CACHE_HOME', 'AIRLOCK_CACHE_DIR'];

export function freshShell(options: { cwd: string; env: Record<string, string> }): FreshShell {
  const path = (process.env['PATH'] ?? '').split(':').filter((dir) => dir !== '' && !dir.includes('node_modules')).join(':');
  const passed = Object.fromEntries(PASSED_THROUGH.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k] ?? '']])));
  const env: Record<string, string> = { ...passed, PATH: path, TERM: 'dumb', ...options.env };
  const spawnBash = (command: string, extra: Record<string, string> = {}, detached = false): ChildProcess =>
    spawn('bash', ['-c', command], { cwd: options.cwd, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'], detached });
  return {
    env,
    run: (command, runOptions = {}) => new Promise((resolve) => {
      const child = spawnBash(command, runOptions.env, true);
      let output = '';
      child.stdout?.on('data', (c: Buffer) => { output += c.toString(); });
      child.stderr?.on('data', (c: Buffer) => { output += c.toString(); });
      const timer = setTimeout(() => { if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL'); }, runOptions.timeoutMs ?? 120_000);
      child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal === null ? 1 : 128), output }); });
    }),
    start: (command, ready, timeoutMs = 120_000) => new Promise((resolve, reject) => {
      const child = spawnBash(command, {}, true);
      let output = '';
      let settled = false;
      const exited = new Promise<number>((r) => { child.on('close', (code) => { r(code ?? 0); }); });
      const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number> => {
        if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, signal);
        return exited;
      };
      const onData = (c: Buffer): void => {
        output += c.toString();
        if (!settled && ready.test(output)) { settled = true; clearTimeout(timer); resolve({ output: () => output, stop }); }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      const timer = setTimeout(() => { void stop('SIGKILL'); if (!settled) { settled = true; reject(new Error(`"${command}" did not print ${String(ready)} in ${timeoutMs} ms:\n${output}`)); } }, timeoutMs);
      void exited.then((code) => { if (!settled) { settled = true; clearTimeout(timer); reject(new Error(`"${command}" exited ${code} before printing ${String(ready)}:\n${output}`)); } });
    }),
  };
}

/** The output without terminal colours. */
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
export const plain = (text: string): string => text.replace(COLOUR, '');
