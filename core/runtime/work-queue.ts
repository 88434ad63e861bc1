// A level-triggered work queue of object keys (`namespace/name`), with client-go's guarantees:
// - a key is queued at most once, however many events name it (events only say "look again");
// - a key is never processed by two workers at once: re-adding a key that is being processed marks
//   it dirty, and it runs once more after the current run ends;
// - retries back off per key, and delayed adds (`addAfter`) keep the earliest deadline.
// The queue holds keys, never objects: the processor re-reads the latest state, so a burst of
// updates becomes one reconcile of the newest version instead of one stale reconcile per event.
import { DEFAULT_BACKOFF, createItemBackoff, type BackoffOptions } from './backoff.ts';
import { systemClock, type CancelTimer, type Clock } from './clock.ts';

/** Observations for metrics. Called synchronously; keep them cheap. Never labelled by key. */
export interface WorkQueueMetrics {
  /** Keys waiting for a worker (not counting delayed or in-flight keys). */
  depth(depth: number): void;
  /** A key became due (adds of a key that is already due are not counted). */
  added(): void;
  /** A key was re-queued by `addRateLimited`. */
  retried(): void;
  /** Time a key waited in the queue before a worker took it. */
  waited(seconds: number): void;
  /** Time one processing run took. */
  processed(seconds: number): void;
}

export const NO_METRICS: WorkQueueMetrics = {
  depth: () => undefined,
  added: () => undefined,
  retried: () => undefined,
  waited: () => undefined,
  processed: () => undefined,
};

/**
 * Processes one key. `signal` aborts when the queue shuts down, so long work (e.g. after losing
 * leadership) can stop early. A rejection re-queues the key with backoff.
 */
export type ProcessKey = (key: string, signal: AbortSignal) => Promise<void>;

export interface WorkQueueOptions {
  readonly process: ProcessKey;
  /** Keys processed in parallel (distinct keys only). Default 1. */
  readonly concurrency?: number;
  readonly backoff?: BackoffOptions;
  readonly clock?: Clock;
  readonly metrics?: WorkQueueMetrics;
}

export interface WorkQueue {
  /** Queues `key` unless it is already queued. Ignored after `shutDown`. */
  add(key: string): void;
  /** Queues `key` after `delayMs`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void;
  /** Queues `key` after its next backoff delay (a failed attempt), at most `maxDelayMs` if given. */
  addRateLimited(key: string, maxDelayMs?: number): void;
  /** Resets `key`'s backoff (a successful attempt). */
  forget(key: string): void;
  /** Failed attempts of `key` since it was last forgotten. */
  numRequeues(key: string): number;
  /** Keys waiting for a worker. */
  readonly length: number;
  /** Keys being processed now. */
  readonly inFlight: number;
  readonly isShuttingDown: boolean;
  /**
   * Stops taking keys, drops queued and delayed ones, aborts the processors' signal and waits for
   * in-flight work. Resolves true when it finished within `timeoutMs`, false otherwise.
   */
  shutDown(timeoutMs?: number): Promise<boolean>;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const { concurrency, clock, metrics } = resolveOptions(options);
  const backoff = createItemBackoff(options.backoff ?? DEFAULT_BACKOFF);
  const state = createQueueState();
  const stop = new AbortController();
  let shutdownResult: Promise<boolean> | undefined;

  const add = (key: string): void => {
    if (stop.signal.aborted || state.dirty.has(key)) return;
    state.dirty.set(key, clock.now());
    metrics.added();
    // A key in flight stays only dirty; `finish` queues it again when the current run ends.
    if (state.processing.has(key)) return;
    state.queue.push(key);
    metrics.depth(state.queue.length);
    pump();
  };

  const pump = (): void => {
    while (!stop.signal.aborted && state.processing.size < concurrency && state.queue.length > 0) {
      const key = state.queue.shift() as string;
      metrics.waited((clock.now() - (state.dirty.get(key) ?? clock.now())) / 1000);
      metrics.depth(state.queue.length);
      state.dirty.delete(key);
      state.processing.add(key);
      void run(key);
    }
  };

  const run = async (key: string): Promise<void> => {
    const started = clock.now();
    try {
      // A microtask first: processors never run inside the caller of `add` (an informer callback).
      await Promise.resolve();
      await options.process(key, stop.signal);
    } catch {
      addRateLimited(key);
    } finally {
      metrics.processed((clock.now() - started) / 1000);
      finish(key);
    }
  };

  const finish = (key: string): void => {
    state.processing.delete(key);
    if (state.dirty.has(key) && !stop.signal.aborted) {
      state.queue.push(key);
      metrics.depth(state.queue.length);
    }
    if (state.processing.size === 0) for (const idle of state.idleWaiters) idle();
    pump();
  };

  const delays = createDelays(clock, add);
  const addAfter = (key: string, delayMs: number): void => {
    if (stop.signal.aborted) return;
    if (delayMs <= 0) add(key);
    else delays.schedule(key, delayMs);
  };

  const addRateLimited = (key: string, maxDelayMs = Infinity): void => {
    if (stop.signal.aborted) return;
    metrics.retried();
    addAfter(key, Math.min(backoff.next(key), maxDelayMs));
  };

  const shutDown = (timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<boolean> => {
    if (shutdownResult === undefined) {
      stop.abort();
      delays.cancelAll();
      state.queue.length = 0;
      state.dirty.clear();
      metrics.depth(0);
      shutdownResult = waitForIdle(state, clock, timeoutMs);
    }
    return shutdownResult;
  };

  return {
    add,
    addAfter,
    addRateLimited,
    forget: (key) => { backoff.forget(key); },
    numRequeues: (key) => backoff.failures(key),
    get length() { return state.queue.length; },
    get inFlight() { return state.processing.size; },
    get isShuttingDown() { return stop.signal.aborted; },
    shutDown,
  };
}

function resolveOptions(options: WorkQueueOptions): { concurrency: number; clock: Clock; metrics: WorkQueueMetrics } {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError(`work queue: concurrency must be a positive integer, got ${concurrency}`);
  return { concurrency, clock: options.clock ?? systemClock, metrics: options.metrics ?? NO_METRICS };
}

interface QueueState {
  /** Keys in the order workers take them. */
  readonly queue: string[];
  /** Keys that need processing, with the time they were first added; queued or in flight. */
  readonly dirty: Map<string, number>;
  readonly processing: Set<string>;
  /** Called when the last in-flight key finishes. */
  readonly idleWaiters: Set<() => void>;
}

function createQueueState(): QueueState {
  return { queue: [], dirty: new Map(), processing: new Set(), idleWaiters: new Set() };
}

/** Resolves true when nothing is in flight, or false after `timeoutMs`. */
function waitForIdle(state: QueueState, clock: Clock, timeoutMs: number): Promise<boolean> {
  if (state.processing.size === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (result: boolean): void => {
      state.idleWaiters.delete(onIdle);
      cancelTimeout();
      resolve(result);
    };
    const onIdle = (): void => { done(true); };
    const cancelTimeout = clock.setTimer(() => { done(false); }, timeoutMs);
    state.idleWaiters.add(onIdle);
  });
}

/** Keys waiting for a deadline; one timer per key, the earliest deadline wins. */
function createDelays(clock: Clock, fire: (key: string) => void): {
  schedule(key: string, delayMs: number): void;
  cancelAll(): void;
} {
  const pending = new Map<string, { readonly dueAt: number; readonly cancel: CancelTimer }>();
  return {
    schedule(key, delayMs) {
      const dueAt = clock.now() + delayMs;
      const earlier = pending.get(key);
      if (earlier !== undefined && earlier.dueAt <= dueAt) return;
      earlier?.cancel();
      const cancel = clock.setTimer(() => {
        pending.delete(key);
        fire(key);
      }, delayMs);
      pending.set(key, { dueAt, cancel });
    },
    cancelAll() {
      for (const { cancel } of pending.values()) cancel();
      pending.clear();
    },
  };
}
