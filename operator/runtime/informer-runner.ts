// Keeps a client-node informer running. client-node 2.0.1's ListWatch recovers by itself from
// 410 Gone (re-list) and from its own watch timeout (re-watch from the last resourceVersion), but
// on any other failure (list refused, watch answered 403/500, connection reset, API server down)
// it fires `error` and stops for good. A controller whose informer silently stopped would never
// reconcile again, so every `error` restarts it here, with backoff.
import type { Informer, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError } from './api-errors.ts';
import { backoffDelay, validateBackoff, type BackoffOptions } from './backoff.ts';
import { systemClock, type CancelTimer, type Clock } from './clock.ts';

/** 1 s doubling to 30 s: the same steps client-node uses between its own reconnects. */
export const DEFAULT_INFORMER_RESTART_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 30_000 };

export interface InformerRunnerOptions {
  /** Names the informer in logs, e.g. `configmaps`. */
  readonly name: string;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly restartBackoff?: BackoffOptions;
}

export interface InformerRunner {
  /** True once a list has completed: the cache then holds every object (it stays true afterwards). */
  hasSynced(): boolean;
  /** Resolves true on the first completed list, or false if the runner is stopped first. */
  waitForSync(): Promise<boolean>;
  /** Times the informer was restarted after an error. */
  restarts(): number;
  stop(): Promise<void>;
}

export function runInformer<T extends KubernetesObject>(informer: Informer<T>, options: InformerRunnerOptions): InformerRunner {
  const clock = options.clock ?? systemClock;
  const backoff = options.restartBackoff ?? DEFAULT_INFORMER_RESTART_BACKOFF;
  validateBackoff(backoff, 'informer restart backoff');
  const log = options.log.child({ informer: options.name });
  const sync = Promise.withResolvers<boolean>();
  let synced = false;
  let stopped = false;
  let failures = 0;
  let restarts = 0;
  let errors = 0;
  let pendingRestart: CancelTimer | undefined;

  const start = async (): Promise<void> => {
    const errorsBefore = errors;
    try {
      // Resolves once the list is cached and the watch is open; a failure on the way fires
      // `error` (handled below) before it resolves.
      await informer.start();
    } catch (error) {
      onError(error);
    }
    if (stopped || errors !== errorsBefore) return;
    failures = 0;
    if (!synced) {
      synced = true;
      log.debug('informer synced');
      sync.resolve(true);
    }
  };

  const onError = (error: unknown): void => {
    // Stopping aborts the watch request, which client-node reports as an `error` (AbortError).
    if (stopped) return;
    errors += 1;
    if (pendingRestart !== undefined) return;
    const delayMs = backoffDelay(failures, backoff);
    failures += 1;
    log.warn({ error: describeError(error), restartInMs: delayMs }, 'informer stopped on an error; restarting');
    pendingRestart = clock.setTimer(() => {
      pendingRestart = undefined;
      restarts += 1;
      void start();
    }, delayMs);
  };

  informer.on('error', onError);
  void start();
  return {
    hasSynced: () => synced,
    waitForSync: () => sync.promise,
    restarts: () => restarts,
    async stop() {
      if (stopped) return;
      stopped = true;
      pendingRestart?.();
      pendingRestart = undefined;
      sync.resolve(false);
      await informer.stop();
      informer.off('error', onError);
    },
  };
}
