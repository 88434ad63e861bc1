import { describe, expect, it } from 'vitest';
import { mergeConditions, type Condition } from './conditions.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

describe('mergeConditions', () => {
  it('stamps a new condition with now and the generation', () => {
    const out = mergeConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'PodsNotReady', message: 'm' }], { now: t0, generation: 3 });
    expect(out).toEqual([{ type: 'Ready', status: 'False', observedGeneration: 3, lastTransitionTime: t0.toISOString(), reason: 'PodsNotReady', message: 'm' }]);
  });

  it('keeps lastTransitionTime when only the reason or message changes', () => {
    const prev: Condition[] = [{ type: 'Ready', status: 'False', lastTransitionTime: t0.toISOString(), reason: 'A', message: 'a' }];
    const out = mergeConditions(prev, [{ type: 'Ready', status: 'False', reason: 'B', message: 'b' }], { now: t1, generation: 2 });
    expect(out[0]?.lastTransitionTime).toBe(t0.toISOString());
    expect(out[0]?.reason).toBe('B');
  });

  it('moves lastTransitionTime when the status changes, and keeps other types', () => {
    const prev: Condition[] = [
      { type: 'Ready', status: 'False', lastTransitionTime: t0.toISOString(), reason: 'A', message: 'a' },
      { type: 'Other', status: 'True', lastTransitionTime: t0.toISOString(), reason: 'X', message: 'x' },
    ];
    const out = mergeConditions(prev, [{ type: 'Ready', status: 'True', reason: 'DeploymentReady', message: 'ok' }], { now: t1, generation: undefined });
    expect(out.map((c) => [c.type, c.lastTransitionTime])).toEqual([['Ready', t1.toISOString()], ['Other', t0.toISOString()]]);
  });
});
