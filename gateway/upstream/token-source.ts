// The gateway's own upstream credential, read from a file that the operator rotates (a projected
// or Secret volume swaps it atomically through a symlink). Re-read on change and on a timer, so a
// new token is used without a restart and without failing a request in flight.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

export interface TokenSource {
  /** The current token; throws when none could be read, so nothing is forwarded without one. */
  current(): string;
  /** Milliseconds since epoch of the last successful read, for readiness and metrics. */
  readonly loadedAt: number;
  close(): void;
}

export class MissingCredentialError extends Error {
  readonly code = 'missing_credential';
  constructor(path: string, cause: string) {
    super(`upstream token file ${path} could not be read: ${cause}`);
    this.name = 'MissingCredentialError';
  }
}

export function fileTokenSource(path: string, options: { pollMs?: number; onReload?: () => void } = {}): TokenSource {
  let token = '';
  let loadedAt = 0;
  let lastError = 'not read yet';
  const load = (): void => {
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (value === '') { lastError = 'file is empty'; return; }
      if (value !== token) {
        token = value;
        options.onReload?.();
      }
      loadedAt = Date.now();
    } catch (error) {
      // Keep the last good token: a rotation swaps files, and a read can race the swap.
      lastError = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    }
  };
  load();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, () => { load(); });
  } catch {
    watcher = undefined;
  }
  const timer = setInterval(load, options.pollMs ?? 10_000);
  timer.unref();
  return {
    current: () => {
      if (token === '') throw new MissingCredentialError(path, lastError);
      return token;
    },
    get loadedAt() { return loadedAt; },
    close: () => { clearInterval(timer); watcher?.close(); },
  };
}
