import { describe, expect, it } from 'vitest';
import { backoffDelay, createItemBackoff } from './backoff.ts';
import { sleep } from './clock.ts';
import { createFakeClock, settle, type FakeClock } from './fake-clock.ts';
import { createWorkQueue, type WorkQueue, type WorkQueueMetrics } from './work-queue.ts';

interface Run {
  readonly key: string;
  readonly start: number;
  end?: number;
}

interface Harness {
  readonly clock: FakeClock;
  readonly queue: WorkQueue;
  readonly runs: Run[];
  /** Most runs of one key in flight at the same time. */
  maxSameKey(): number;
  /** Most runs of any keys in flight at the same time. */
  maxParallel(): number;
  readonly signals: AbortSignal[];
}

/** A queue whose processor takes `workMs` of fake time per key (or what `work` says). */
function harness(options: { concurrency?: number; workMs?: number; work?: (key: string, attempt: number) => Promise<void> } = {}): Harness {
  const clock = createFakeClock(0);
  const runs: Run[] = [];
  const signals: AbortSignal[] = [];
  const active = new Map<string, number>();
  let maxSameKey = 0;
  let maxParallel = 0;
  let parallel = 0;
  const queue = createWorkQueue({
    clock,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    process: async (key, signal) => {
      signals.push(signal);
      const run: Run = { key, start: clock.now() };
      runs.push(run);
      active.set(key, (active.get(key) ?? 0) + 1);
      parallel += 1;
      maxSameKey = Math.max(maxSameKey, active.get(key) ?? 0);
      maxParallel = Math.max(maxParallel, parallel);
      try {
        if (options.work !== undefined) await options.work(key, runs.filter((r) => r.key === key).length);
        else await sleep(clock, options.workMs ?? 10);
      } finally {
        run.end = clock.now();
        active.set(key, (active.get(key) ?? 1) - 1);
        parallel -= 1;
      }
    },
  });
  return { clock, queue, runs, signals, maxSameKey: () => maxSameKey, maxParallel: () => maxParallel };
}

const keysOf = (runs: readonly Run[]): string[] => runs.map((r) => r.key);

describe('work queue: de-duplication', () => {
  it.each([
    { added: ['a', 'a', 'a'], processed: ['busy', 'a'] },
    { added: ['a', 'b', 'a', 'b', 'a'], processed: ['busy', 'a', 'b'] },
    { added: ['c', 'b', 'a', 'c'], processed: ['busy', 'c', 'b', 'a'] },
    { added: ['busy', 'busy', 'busy'], processed: ['busy', 'busy'] },
  ])('adding $added while a worker is busy processes $processed', async ({ added, processed }) => {
    const h = harness();
    h.queue.add('busy');
    await settle();
    for (const key of added) h.queue.add(key);
    await h.clock.advance(1000);
    expect(keysOf(h.runs)).toEqual(processed);
  });

  it('reports queued keys in length and a key once however often it was added', () => {
    const h = harness();
    h.queue.add('busy');
    for (const key of ['a', 'b', 'a', 'c', 'b']) h.queue.add(key);
    expect(h.queue.length).toBe(3);
    expect(h.queue.inFlight).toBe(1);
  });
});

describe('work queue: one run per key at a time', () => {
  it.each([1, 2, 4])('never processes one key twice at once with %i workers, and runs it once more after re-adds', async (concurrency) => {
    const h = harness({ concurrency, workMs: 50 });
    h.queue.add('a');
    await h.clock.advance(10);
    for (let i = 0; i < 5; i += 1) h.queue.add('a');
    await h.clock.advance(1000);
    expect(keysOf(h.runs)).toEqual(['a', 'a']);
    expect(h.maxSameKey()).toBe(1);
    expect(h.runs[1]!.start).toBe(h.runs[0]!.end);
  });

  it.each([
    { concurrency: 1, keys: 6, parallel: 1, finishedAt: 60 },
    { concurrency: 2, keys: 6, parallel: 2, finishedAt: 30 },
    { concurrency: 4, keys: 6, parallel: 4, finishedAt: 20 },
    { concurrency: 8, keys: 6, parallel: 6, finishedAt: 10 },
  ])('runs $keys distinct keys with $concurrency workers, $parallel at once, all done at $finishedAt ms', async ({ concurrency, keys, parallel, finishedAt }) => {
    const h = harness({ concurrency, workMs: 10 });
    for (let i = 0; i < keys; i += 1) h.queue.add(`k${i}`);
    await h.clock.advance(1000);
    expect(h.maxParallel()).toBe(parallel);
    expect(Math.max(...h.runs.map((r) => r.end ?? Infinity))).toBe(finishedAt);
  });
});

describe('work queue: backoff', () => {
  it.each([
    [0, 5], [1, 10], [2, 20], [3, 40], [10, 5120], [17, 655_360], [18, 1_000_000], [30, 1_000_000], [5000, 1_000_000],
  ])('after %i earlier failures waits %i ms (5 ms doubling, capped at 1000 s)', (failures, delay) => {
    expect(backoffDelay(failures, { baseMs: 5, maxMs: 1_000_000 })).toBe(delay);
  });

  it('retries a failing key after 5, 10, 20, 40 ms, counting requeues', async () => {
    const h = harness({ work: () => Promise.reject(new Error('boom')) });
    h.queue.add('a');
    await h.clock.advance(5 + 10 + 20 + 40);
    expect(h.runs.map((r) => r.start)).toEqual([0, 5, 15, 35, 75]);
    expect(h.queue.numRequeues('a')).toBe(5);
  });

  it('keeps backoff per key: a failing key does not delay another', async () => {
    const h = harness({ work: (key) => (key === 'bad' ? Promise.reject(new Error('boom')) : Promise.resolve()) });
    h.queue.add('bad');
    await h.clock.advance(35);
    h.queue.addRateLimited('good');
    await h.clock.advance(5);
    expect(h.runs.filter((r) => r.key === 'good').map((r) => r.start)).toEqual([40]);
  });

  it.each([
    { failures: 3, forget: true, next: 5 },
    { failures: 3, forget: false, next: 40 },
    { failures: 0, forget: true, next: 5 },
  ])('after $failures failures, forget=$forget makes the next delay $next ms', ({ failures, forget, next }) => {
    const backoff = createItemBackoff({ baseMs: 5, maxMs: 1_000_000 });
    for (let i = 0; i < failures; i += 1) backoff.next('a');
    if (forget) backoff.forget('a');
    expect(backoff.next('a')).toBe(next);
  });

  it('starts over at 5 ms when the queue forgets a key', async () => {
    const h = harness({ work: () => Promise.resolve() });
    for (let i = 0; i < 4; i += 1) h.queue.addRateLimited('a');
    await h.clock.advance(1);
    expect(h.queue.numRequeues('a')).toBe(4);
    h.queue.forget('a');
    expect(h.queue.numRequeues('a')).toBe(0);
    const before = h.runs.length;
    h.queue.addRateLimited('a');
    await h.clock.advance(5);
    expect(h.runs.length).toBe(before + 1);
  });

  it.each([
    [{ concurrency: 0 }, /concurrency must be a positive integer/],
    [{ concurrency: 1.5 }, /concurrency must be a positive integer/],
    [{ backoff: { baseMs: 0, maxMs: 10 } }, /baseMs must be a positive number/],
    [{ backoff: { baseMs: 10, maxMs: 5 } }, /maxMs must be at least baseMs/],
  ])('rejects options %j with a TypeError', (options, message) => {
    expect(() => createWorkQueue({ process: () => Promise.resolve(), ...options })).toThrow(TypeError);
    expect(() => createWorkQueue({ process: () => Promise.resolve(), ...options })).toThrow(message);
  });
});

describe('work queue: addAfter', () => {
  it.each([
    { adds: [['a', 30], ['b', 10], ['c', 20]], order: ['b', 'c', 'a'], starts: [10, 20, 30] },
    { adds: [['a', 100], ['a', 10]], order: ['a'], starts: [10] },
    { adds: [['a', 10], ['a', 100]], order: ['a'], starts: [10] },
    { adds: [['a', 0], ['b', -5]], order: ['a', 'b'], starts: [0, 0] },
    { adds: [['a', 20], ['b', 20]], order: ['a', 'b'], starts: [20, 20] },
  ] as const)('after $adds runs $order at $starts ms', async ({ adds, order, starts }) => {
    const h = harness({ concurrency: 4, workMs: 1 });
    for (const [key, ms] of adds) h.queue.addAfter(key, ms);
    await h.clock.advance(1000);
    expect(keysOf(h.runs)).toEqual(order);
    expect(h.runs.map((r) => r.start)).toEqual(starts);
  });

  it('merges a delayed key into an immediate add of the same key that is still queued', async () => {
    const h = harness({ workMs: 50 });
    h.queue.add('busy');
    h.queue.add('a');
    h.queue.addAfter('a', 10);
    await h.clock.advance(1000);
    expect(keysOf(h.runs)).toEqual(['busy', 'a']);
  });
});

describe('work queue: shutDown', () => {
  it('waits for in-flight work, drops queued and delayed keys and ignores later adds', async () => {
    const h = harness({ workMs: 100 });
    h.queue.add('a');
    h.queue.add('b');
    h.queue.addAfter('c', 10);
    await h.clock.advance(20);
    let result: boolean | undefined;
    void h.queue.shutDown(1000).then((r) => { result = r; });
    h.queue.add('d');
    h.queue.addRateLimited('e');
    expect(h.queue.isShuttingDown).toBe(true);
    expect(h.queue.length).toBe(0);
    await h.clock.advance(79);
    expect(result).toBeUndefined();
    await h.clock.advance(1);
    expect(result).toBe(true);
    await h.clock.advance(10_000);
    expect(keysOf(h.runs)).toEqual(['a']);
    expect(h.clock.pendingTimers()).toBe(0);
  });

  it('aborts the signal given to in-flight work when shutting down', async () => {
    const h = harness({ workMs: 100 });
    h.queue.add('a');
    await settle();
    expect(h.signals[0]!.aborted).toBe(false);
    void h.queue.shutDown();
    expect(h.signals[0]!.aborted).toBe(true);
  });

  it.each([
    { workMs: 50, timeoutMs: 100, drained: true },
    { workMs: 500, timeoutMs: 100, drained: false },
  ])('resolves $drained when work takes $workMs ms and the timeout is $timeoutMs ms', async ({ workMs, timeoutMs, drained }) => {
    const h = harness({ workMs });
    h.queue.add('a');
    await settle();
    const result = h.queue.shutDown(timeoutMs);
    await h.clock.advance(1000);
    expect(await result).toBe(drained);
  });

  it('resolves at once when idle, and gives every caller the same answer', async () => {
    const h = harness();
    const first = h.queue.shutDown(10);
    expect(h.queue.shutDown(10)).toBe(first);
    expect(await first).toBe(true);
  });
});

describe('work queue: metrics', () => {
  it('reports adds, depth, retries, waiting and processing time', async () => {
    const seen = { added: 0, retried: 0, depths: [] as number[], waited: [] as number[], processed: [] as number[] };
    const metrics: WorkQueueMetrics = {
      added: () => { seen.added += 1; },
      retried: () => { seen.retried += 1; },
      depth: (d) => { seen.depths.push(d); },
      waited: (s) => { seen.waited.push(s); },
      processed: (s) => { seen.processed.push(s); },
    };
    const clock = createFakeClock(0);
    let fail = true;
    const queue = createWorkQueue({ clock, metrics, process: async () => {
      await sleep(clock, 20);
      if (fail) { fail = false; throw new Error('once'); }
    } });
    queue.add('a');
    queue.add('b');
    queue.add('b');
    await clock.advance(1000);
    expect(seen).toEqual({ added: 3, retried: 1, depths: [1, 0, 1, 0, 1, 0], waited: [0, 0.02, 0.015], processed: [0.02, 0.02, 0.02] });
  });
});
