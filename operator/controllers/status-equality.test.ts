import { describe, expect, it } from 'vitest';
import { sameConditions, sameValue } from './status-equality.ts';

const condition = (fields: Record<string, unknown> = {}): { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string; observedGeneration?: number; lastTransitionTime: string } => ({
  type: 'Ready', status: 'True', reason: 'DeploymentReady', message: '2 of 2 gateway pods are ready.', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:00:00.000Z', ...fields,
});

describe('sameValue', () => {
  it.each([
    [{ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: 1 }, { a: '1' }, false],
    [{ a: null }, { a: undefined }, false],
    [[{ x: 1 }], [{ x: 1 }, { x: 1 }], false],
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', true],
  ])('%j and %j: %s', (a, b, same) => {
    expect(sameValue(a, b)).toBe(same);
    expect(sameValue(b, a)).toBe(same);
  });
});

describe('sameConditions', () => {
  it('matches conditions by type, in any order and with keys in any order', () => {
    const other = condition({ type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'Nothing needs attention.' });
    const reordered = { message: other.message, reason: other.reason, status: other.status, type: other.type, observedGeneration: 3, lastTransitionTime: other.lastTransitionTime };
    expect(sameConditions([condition(), other], [reordered, condition()])).toBe(true);
  });

  it('ignores lastTransitionTime: mergeConditions keeps it, it is never a reason to write', () => {
    expect(sameConditions([condition()], [condition({ lastTransitionTime: '2026-02-02T00:00:00Z' })])).toBe(true);
  });

  it.each([
    ['status', { status: 'False' }], ['reason', { reason: 'PodsNotReady' }], ['message', { message: '1 of 2 gateway pods are ready.' }],
    ['observedGeneration', { observedGeneration: 4 }], ['type', { type: 'Available' }],
  ])('sees a change of %s', (_field, change) => {
    expect(sameConditions([condition()], [condition(change)])).toBe(false);
  });

  it('sees a condition added or removed', () => {
    expect(sameConditions([condition()], [condition(), condition({ type: 'Degraded' })])).toBe(false);
    expect(sameConditions([condition(), condition({ type: 'Degraded' })], [condition()])).toBe(false);
    expect(sameConditions(undefined, [])).toBe(true);
  });
});
