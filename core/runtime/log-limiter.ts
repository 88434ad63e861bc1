// Keeps a failing loop from flooding the log. During an API server outage every reconcile and
// every informer restart fails the same way; logging each was 5,894 lines in 6 s (issue 20). The
// first line of a kind is written at once; the others within the next `intervalMs` are counted,
// and one line says how many there were, with the last one's fields, when the interval ends.
import type { Logger } from 'pino';
import type { CancelTimer, Clock } from './clock.ts';

export interface LogEntry {
  /** Written through this logger (its bindings name the controller and informer). */
  readonly log: Logger;
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Readonly<Record<string, unknown>>;
  readonly msg: string;
}

export interface LogLimiter {
  /** Writes `entry` unless a line of `kind` was written within the interval; counts it then. */
  report(kind: string, entry: LogEntry): void;
  /** Cancels the pending summaries (their counts are dropped). */
  stop(): void;
}

export const DEFAULT_LOG_INTERVAL_MS = 10_000;

export function createLogLimiter(options: { readonly clock: Clock; readonly intervalMs?: number }): LogLimiter {
  const intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
  const open = new Map<string, { suppressed: number; last: LogEntry; readonly cancel: CancelTimer }>();
  const close = (kind: string): void => {
    const window = open.get(kind);
    open.delete(kind);
    if (window === undefined || window.suppressed === 0) return;
    const { log, level, fields, msg } = window.last;
    log[level]({ ...fields, suppressed: window.suppressed, intervalMs }, `${msg} (${window.suppressed} more like it in ${intervalMs / 1000} s)`);
  };
  return {
    report(kind, entry) {
      const window = open.get(kind);
      if (window !== undefined) {
        window.suppressed += 1;
        window.last = entry;
        return;
      }
      entry.log[entry.level](entry.fields, entry.msg);
      open.set(kind, { suppressed: 0, last: entry, cancel: options.clock.setTimer(() => { close(kind); }, intervalMs) });
    },
    stop() {
      for (const window of open.values()) window.cancel();
      open.clear();
    },
  };
}
