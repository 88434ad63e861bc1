import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../core/test-random.ts';
import { createBodyBudget } from './body-budget.ts';

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('body budget', () => {
  it('reserves at once what fits', async () => {
    const budget = createBodyBudget(100);
    const release = await budget.reserve(60, 1000);
    expect(release).toBeTypeOf('function');
    expect(budget.reservedBytes).toBe(60);
    release?.();
    release?.();
    expect(budget.reservedBytes).toBe(0);
  });

  it('makes what does not fit wait, and grants it when enough is released', async () => {
    const budget = createBodyBudget(100);
    const first = await budget.reserve(70, 1000);
    let second: (() => void) | undefined | 'pending' = 'pending';
    void budget.reserve(50, 1000).then((r) => { second = r; });
    await vi.advanceTimersByTimeAsync(500);
    expect(second).toBe('pending');
    first?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(second).toBeTypeOf('function');
    expect(budget.reservedBytes).toBe(50);
  });

  it('refuses (undefined) what still does not fit when the wait is over, and frees its place', async () => {
    const budget = createBodyBudget(100);
    await budget.reserve(70, 1000);
    const waited = budget.reserve(50, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(waited).resolves.toBeUndefined();
    expect(budget.reservedBytes).toBe(70);
    await expect(budget.reserve(30, 0)).resolves.toBeTypeOf('function');
  });

  it('serves in arrival order: a small body does not pass a large one waiting', async () => {
    const budget = createBodyBudget(100);
    const first = await budget.reserve(90, 5000);
    const order: string[] = [];
    void budget.reserve(60, 5000).then(() => { order.push('large'); });
    void budget.reserve(5, 5000).then(() => { order.push('small'); });
    await vi.advanceTimersByTimeAsync(100);
    // 5 bytes would fit beside the 90, but the 60 came first.
    expect(order).toEqual([]);
    first?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['large', 'small']);
  });

  it('refuses at once a reservation larger than the whole budget, or any with no wait when full', async () => {
    const budget = createBodyBudget(100);
    await expect(budget.reserve(101, 1000)).resolves.toBeUndefined();
    await budget.reserve(100, 0);
    await expect(budget.reserve(1, 0)).resolves.toBeUndefined();
  });

  it('never holds more than its capacity, over 2000 random reservations, waits and releases', async () => {
    const random = seededRandom(14);
    const capacity = 1000;
    const budget = createBodyBudget(capacity, (bytes) => { expect(bytes).toBeLessThanOrEqual(capacity); });
    const held: (() => void)[] = [];
    let granted = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i += 1) {
      if (random() < 0.55) {
        void budget.reserve(Math.floor(random() * 400), Math.floor(random() * 50)).then((r) => {
          if (r === undefined) refused += 1;
          else { granted += 1; held.push(r); }
        });
      } else {
        held.splice(Math.floor(random() * held.length), 1)[0]?.();
      }
      await vi.advanceTimersByTimeAsync(Math.floor(random() * 20));
      expect(budget.reservedBytes).toBeLessThanOrEqual(capacity);
    }
    expect(budget.peakBytes).toBeLessThanOrEqual(capacity);
    // The run exercised both outcomes, and the budget was really under pressure.
    expect(granted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(10);
    expect(budget.peakBytes).toBeGreaterThan(capacity * 0.8);
    await vi.advanceTimersByTimeAsync(100);
    for (const release of held.splice(0)) release();
    expect(budget.reservedBytes).toBe(0);
  });
});
