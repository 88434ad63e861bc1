import { describe, expect, it } from 'vitest';
import { createCallerSlots } from './caller-slots.ts';

describe('caller slots', () => {
  it('gives a caller up to its cap of each kind, and the next one is refused', () => {
    const slots = createCallerSlots({ request: 2, 'long-running': 1 });
    expect(slots.acquire('alice', 'request')).toBeTypeOf('function');
    expect(slots.acquire('alice', 'request')).toBeTypeOf('function');
    expect(slots.acquire('alice', 'request')).toBeUndefined();
    // Long-running requests have their own count: a caller at its request cap can still watch.
    expect(slots.acquire('alice', 'long-running')).toBeTypeOf('function');
    expect(slots.acquire('alice', 'long-running')).toBeUndefined();
  });

  it('counts each caller apart: one at its cap leaves the others served', () => {
    const slots = createCallerSlots({ request: 1, 'long-running': 1 });
    expect(slots.acquire('alice', 'request')).toBeDefined();
    expect(slots.acquire('alice', 'request')).toBeUndefined();
    expect(slots.acquire('bob', 'request')).toBeDefined();
  });

  it('frees a slot once per release, however often release is called', () => {
    const slots = createCallerSlots({ request: 2, 'long-running': 1 });
    const first = slots.acquire('alice', 'request');
    slots.acquire('alice', 'request');
    first?.();
    first?.();
    expect(slots.held('alice', 'request')).toBe(1);
    expect(slots.acquire('alice', 'request')).toBeDefined();
    expect(slots.acquire('alice', 'request')).toBeUndefined();
  });

  it('forgets a caller that holds nothing (the map is bounded by requests in flight)', () => {
    const slots = createCallerSlots({ request: 1, 'long-running': 1 });
    const a = slots.acquire('alice', 'request');
    const b = slots.acquire('alice', 'long-running');
    a?.();
    b?.();
    expect(slots.held('alice', 'request')).toBe(0);
    expect(slots.acquire('alice', 'request')).toBeDefined();
  });

  it.each([0, -1, 1.5])('refuses a cap of %s at construction', (cap) => {
    expect(() => createCallerSlots({ request: cap, 'long-running': 1 })).toThrow(TypeError);
  });
});
