// Keeps a client-node informer running. client-node 2.0.1's ListWatch recovers by itself from
// 410 Gone (re-list) and from its own watch timeout (re-watch from the last resourceVersion), but
// on any other failure (list refused, watch answered 403/500, connection reset, API server down)
// it fires `error` and stops for good. A controller whose informer silently stopped would never
// reconcile again, so every `error` restarts it here, with backoff.
//
// How soon: an API server that is away or starting (no answer, 429, 5xx) is tried again within half
// a second, however long it has been away, so the operator watches again as soon as it serves
// (issue 20: backoff had reached 16-30 s, and a 403 while its authorization caches warmed up
// doubled it again). After a restart it answers custom resources with 503, then 429 "storage is
// (re)initializing", for a second or two after its /readyz; the informers then list again (their
// resourceVersion predates its new watch cache: 410). A 401/403 is retried as quickly for `warmupMs`, then backs off: it
// is then a missing permission. Anything else (404: a CRD not installed) backs off to 30 s. The
// first success resets it all. Failures are logged once per interval (log-limiter.ts), and the
// recovery once, with how long it took.
import type { Informer, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, errorClass, outageKind } from './api-errors.ts';
import { backoffDelay, validateBackoff, type BackoffOptions } from './backoff.ts';
import { systemClock, type CancelTimer, type Clock } from './clock.ts';
import { createLogLimiter, type LogLimiter } from './log-limiter.ts';

export interface RestartPolicy {
  /** For an API server that is away or busy, and for 401/403 within `warmupMs` of the first. */
  readonly quick: BackoffOptions;
  /** For everything else. */
  readonly slow: BackoffOptions;
  readonly warmupMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { quick: { baseMs: 200, maxMs: 500 }, slow: { baseMs: 1000, maxMs: 30_000 }, warmupMs: 30_000 };

export interface InformerRunnerOptions {
  /** Names the informer in logs, e.g. `configmaps`. */
  readonly name: string;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly restartPolicy?: RestartPolicy;
  /** Shared by a controller's informers, so an outage is one line per interval, not one per informer. */
  readonly limiter?: LogLimiter;
  /** Called when the informer runs again after failures (the API server is back). */
  readonly onRecovered?: () => void;
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

/** The delay before restart number `failures + 1`, and when a 401/403 streak began. */
function restartDelay(error: unknown, state: { failures: number; refusedSince: number | undefined; now: number }, policy: RestartPolicy): { delayMs: number; refusedSince: number | undefined } {
  const kind = errorClass(error);
  const refusedSince = kind === 'refused' ? state.refusedSince ?? state.now : undefined;
  const quick = kind === 'unreachable' || kind === 'unavailable' || (refusedSince !== undefined && state.now - refusedSince < policy.warmupMs);
  return { delayMs: backoffDelay(state.failures, quick ? policy.quick : policy.slow), refusedSince };
}

export function runInformer<T extends KubernetesObject>(informer: Informer<T>, options: InformerRunnerOptions): InformerRunner {
  const clock = options.clock ?? systemClock;
  const policy = options.restartPolicy ?? DEFAULT_RESTART_POLICY;
  validateBackoff(policy.quick, 'informer restart backoff (quick)');
  validateBackoff(policy.slow, 'informer restart backoff (slow)');
  const log = options.log.child({ informer: options.name });
  const ownsLimiter = options.limiter === undefined;
  const limiter: LogLimiter = options.limiter ?? createLogLimiter({ clock });
  const sync = Promise.withResolvers<boolean>();
  let synced = false;
  let stopped = false;
  let failures = 0;
  let restarts = 0;
  let errors = 0;
  let failingSince: number | undefined;
  let refusedSince: number | undefined;
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
    if (failingSince !== undefined) {
      limiter.report('informer recovered', { log, level: 'info', fields: { failures, downMs: clock.now() - failingSince }, msg: 'informer running again' });
      options.onRecovered?.();
    }
    failures = 0;
    failingSince = undefined;
    refusedSince = undefined;
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
    const next = restartDelay(error, { failures, refusedSince, now: clock.now() }, policy);
    refusedSince = next.refusedSince;
    failingSince ??= clock.now();
    failures += 1;
    limiter.report(`informer ${outageKind(errorClass(error))}`, { log, level: 'warn', fields: { err: describeError(error), restartInMs: next.delayMs, failures }, msg: 'informer stopped on an error; restarting' });
    const delayMs = next.delayMs;
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
      if (ownsLimiter) limiter.stop();
      sync.resolve(false);
      await informer.stop();
      informer.off('error', onError);
    },
  };
}
