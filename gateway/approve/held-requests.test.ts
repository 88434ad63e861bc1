import { describe, expect, it } from 'vitest';
import { createHeldRequests } from './held-requests.ts';

describe('createHeldRequests', () => {
  it('holds up to the cap per caller, frees a slot on release (once), and counts callers apart', () => {
    const held = createHeldRequests(2);
    const a = held.acquire('ci');
    const b = held.acquire('ci');
    expect(a).toBeTypeOf('function');
    expect(b).toBeTypeOf('function');
    expect(held.acquire('ci')).toBeUndefined();
    expect(held.acquire('other')).toBeTypeOf('function');
    a?.();
    a?.();
    expect(held.count('ci')).toBe(1);
    expect(held.acquire('ci')).toBeTypeOf('function');
    expect(held.acquire('ci')).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a cap of %s', (max) => {
    expect(() => createHeldRequests(max)).toThrow(TypeError);
  });
});
