// A controller: informers feed keys into a work queue, workers reconcile keys. Events carry no
// meaning beyond "look at this key again": the reconcile reads the current object from the
// informer cache itself (getByKey), so it always acts on the newest state, and a missing object
// means it was deleted.
import type { Informer, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, errorClass, isConflict, outageKind } from './api-errors.ts';
import type { BackoffOptions } from './backoff.ts';
import { createLogLimiter, type LogLimiter } from './log-limiter.ts';
import { systemClock, type CancelTimer, type Clock } from './clock.ts';
import { eventKeys, type KeyMapping } from './event-keys.ts';
import { runInformer, type InformerRunner, type RestartPolicy } from './informer-runner.ts';
import { objectKey } from './object-key.ts';
import { createWorkQueue, DEFAULT_SHUTDOWN_TIMEOUT_MS, type WorkQueue, type WorkQueueMetrics } from './work-queue.ts';

export interface ReconcileResult {
  /** Reconcile this key again after this long even if nothing changes (e.g. a credential's rotation time). */
  readonly requeueAfterMs?: number;
}

/**
 * Brings the world in line with the object at `key`. Throwing retries the key with backoff.
 * `signal` aborts when the controller stops (e.g. leadership was lost).
 */
export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult>;

export interface ControllerInformer<T extends KubernetesObject = KubernetesObject> extends KeyMapping<T> {
  /** Names the informer in logs, e.g. `configmaps`. */
  readonly name: string;
  readonly informer: Informer<T> & ObjectCache<T>;
  /**
   * Keys to reconcile when an object of this informer changes. Default: the object's own key (the
   * controller's primary kind). For owned kinds, the owners' keys (see `ownerKeys`). An update
   * queues the keys it stopped or started mapping to, and the others only when `fingerprint`
   * changed (event-keys.ts).
   */
  mapToKeys?(obj: T): readonly string[];
}

export interface ControllerOptions {
  /** Names the controller in logs and metrics, e.g. `accessgateway`. */
  readonly name: string;
  readonly informers: readonly ControllerInformer[];
  readonly reconcile: Reconcile;
  readonly log: Logger;
  /** Keys reconciled in parallel. Default 1. */
  readonly concurrency?: number;
  /** Per-key retry backoff. Default 5 ms doubling to 1000 s. */
  readonly backoff?: BackoffOptions;
  /**
   * Every this often, every cached object of the controller's own kind (informers without
   * `mapToKeys`) is queued again (repairs drift nobody announced). 0: never.
   */
  readonly resyncMs?: number;
  /** How soon a failed informer is started again (informer-runner.ts). */
  readonly informerRestartPolicy?: RestartPolicy;
  /** Outage-like failures (API server away, busy or refusing) are logged once per this interval. Default 10 s. */
  readonly logIntervalMs?: number;
  /** Shared by the operator's controllers, so an outage is a few lines in all, not a few per controller (the owner stops it). */
  readonly limiter?: LogLimiter;
  readonly clock?: Clock;
  readonly metrics?: WorkQueueMetrics;
}

export interface Controller {
  /** True when every informer has completed its first list. */
  hasSynced(): boolean;
  /** Resolves true when every informer has synced, false if the controller stopped first. */
  waitForSync(): Promise<boolean>;
  /** The queue, for callers that learn about work outside the informers. */
  readonly queue: WorkQueue;
  /** Stops informers, resync and workers; resolves true if in-flight reconciles finished in time. */
  stop(timeoutMs?: number): Promise<boolean>;
}

export function runController(options: ControllerOptions): Controller {
  const resyncMs = options.resyncMs ?? 0;
  if (!Number.isFinite(resyncMs) || resyncMs < 0) throw new TypeError(`controller ${options.name}: resyncMs must be 0 or a positive number, got ${resyncMs}`);
  const clock = options.clock ?? systemClock;
  const log = options.log.child({ controller: options.name });
  const limiter = options.limiter ?? createLogLimiter({ clock, ...(options.logIntervalMs === undefined ? {} : { intervalMs: options.logIntervalMs }) });
  const parked = new Set<string>();
  const queue = createWorkQueue({
    process: async (key, signal) => {
      // Like client-go's WaitForCacheSync: a reconcile on a half-filled cache would take objects
      // that exist for missing ones. Keys queue up meanwhile; none is lost.
      if (!controller.hasSynced() && !(await controller.waitForSync())) return;
      await reconcileKey(key, signal, { reconcile: options.reconcile, queue, log, limiter, parked });
    },
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    clock,
  });
  const runners: InformerRunner[] = options.informers.map((source) => {
    const keysOf = eventKeys(source);
    for (const verb of ['add', 'update', 'delete'] as const) {
      source.informer.on(verb, (obj: KubernetesObject) => { for (const key of keysOf(verb, obj)) queue.add(key); });
    }
    return runInformer(source.informer, {
      name: source.name, log, clock, limiter,
      // The API server answers again: the keys that failed while it was away go now, not after their backoff.
      onRecovered: () => { for (const key of parked) queue.add(key); parked.clear(); },
      ...(options.informerRestartPolicy === undefined ? {} : { restartPolicy: options.informerRestartPolicy }),
    });
  });
  const stopResync = scheduleResync(resyncMs, clock, () => {
    for (const source of options.informers.filter((s) => s.mapToKeys === undefined)) {
      for (const obj of source.informer.list()) { const key = objectKey(obj); if (key !== undefined) queue.add(key); }
    }
  });
  let stopped: Promise<boolean> | undefined;
  const controller: Controller = {
    hasSynced: () => runners.every((r) => r.hasSynced()),
    waitForSync: async () => (await Promise.all(runners.map((r) => r.waitForSync()))).every(Boolean),
    queue,
    stop(timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS) {
      stopped ??= (async () => {
        stopResync();
        if (options.limiter === undefined) limiter.stop();
        // The queue first: in-flight reconciles see their signal abort at once, and events that
        // arrive while the informers stop are ignored.
        const drained = queue.shutDown(timeoutMs);
        await Promise.all(runners.map((r) => r.stop()));
        return drained;
      })();
      return stopped;
    },
  };
  return controller;
}

interface ReconcileContext {
  readonly reconcile: Reconcile;
  readonly queue: WorkQueue;
  readonly log: Logger;
  readonly limiter: LogLimiter;
  /** Keys that failed because the API server was away, busy or refusing: queued again when an informer recovers. */
  readonly parked: Set<string>;
}

/**
 * The longest a key waits after a failure because the API server was away or busy (the per-key
 * backoff otherwise doubles to 1000 s). Keys also go as soon as an informer runs again.
 */
export const OUTAGE_RETRY_MAX_MS = 5_000;

/** One attempt at a key, and what the queue does next: forget, requeue later, or back off. */
async function reconcileKey(key: string, signal: AbortSignal, ctx: ReconcileContext): Promise<void> {
  try {
    const result = await ctx.reconcile(key, signal);
    ctx.queue.forget(key);
    ctx.parked.delete(key);
    if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) ctx.queue.addAfter(key, result.requeueAfterMs);
  } catch (error) {
    const attempt = ctx.queue.numRequeues(key) + 1;
    const kind = errorClass(error);
    if (kind !== 'other') ctx.parked.add(key);
    ctx.queue.addRateLimited(key, kind === 'unreachable' || kind === 'unavailable' ? OUTAGE_RETRY_MAX_MS : undefined);
    if (signal.aborted) {
      ctx.log.debug({ key, err: describeError(error) }, 'reconcile ended by shutdown');
    } else if (isConflict(error)) {
      // Another writer (or our own previous write, not yet in the cache) changed the object: an
      // expected race, not worth an error line. Retried after the first backoff step (5 ms by
      // default) with the newest cached state, as controller-runtime's Requeue does; through the
      // rate limiter, so a conflict that keeps repeating (a cache lagging our own writes, or a
      // reconcile bug) backs off instead of hammering the API server.
      ctx.log.debug({ key, attempt }, 'reconcile conflicted; requeued');
    } else if (kind === 'other') {
      ctx.log.error({ key, attempt, err: describeError(error) }, 'reconcile failed; retrying with backoff');
    } else {
      // An outage fails every key the same way: one line per interval, and a count.
      ctx.limiter.report(`reconcile ${outageKind(kind)}`, { log: ctx.log, level: 'error', fields: { key, attempt, err: describeError(error) }, msg: 'reconcile failed; retrying with backoff' });
    }
  }
}

/** Runs `resync` every `period` ms (0: never); returns a function that stops it. */
function scheduleResync(period: number, clock: Clock, resync: () => void): () => void {
  if (period === 0) return () => undefined;
  let cancel: CancelTimer = () => undefined;
  const tick = (): void => {
    resync();
    cancel = clock.setTimer(tick, period);
  };
  cancel = clock.setTimer(tick, period);
  return () => { cancel(); };
}
