import { describe, expect, it } from 'vitest';
import { lazyRetry } from './lazy-retry.ts';

describe('lazy retry', () => {
  it('loads once on first use and shares the load among concurrent callers', async () => {
    let loads = 0;
    const lazy = lazyRetry(async () => { loads += 1; await Promise.resolve(); return 'value'; }, { now: () => 0, initialBackoffMs: 10, maxBackoffMs: 100 });
    expect(loads).toBe(0);
    expect(await Promise.all([lazy.get(), lazy.get(), lazy.get()])).toEqual(['value', 'value', 'value']);
    await lazy.get();
    expect(loads).toBe(1);
    expect(lazy.current()).toBe('value');
  });

  it('answers with the last error until the backoff has passed, doubling it up to the maximum', async () => {
    let now = 0;
    const attempts: number[] = [];
    const failures: number[] = [];
    const lazy = lazyRetry(() => { attempts.push(now); return Promise.reject(new Error(`failure ${attempts.length}`)); }, {
      now: () => now, initialBackoffMs: 100, maxBackoffMs: 300, onFailure: (_e, retryInMs) => failures.push(retryInMs),
    });
    for (let t = 0; t <= 1000; t += 50) {
      now = t;
      await lazy.get().catch(() => undefined);
    }
    expect(attempts).toEqual([0, 100, 300, 600, 900]);
    expect(failures).toEqual([100, 200, 300, 300, 300]);
    await expect(lazy.get()).rejects.toThrow('failure 5');
  });

  it('succeeds after failures and then stays loaded', async () => {
    let now = 0;
    let fail = true;
    const lazy = lazyRetry(() => (fail ? Promise.reject(new Error('down')) : Promise.resolve(42)), { now: () => now, initialBackoffMs: 10, maxBackoffMs: 10 });
    await expect(lazy.get()).rejects.toThrow('down');
    fail = false;
    await expect(lazy.get()).rejects.toThrow('down');
    now = 10;
    await expect(lazy.get()).resolves.toBe(42);
    fail = true;
    await expect(lazy.get()).resolves.toBe(42);
  });
});
