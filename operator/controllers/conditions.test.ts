import { describe, expect, it } from 'vitest';
import { conditionEvents, mergeConditions, type Condition } from './conditions.ts';

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

describe('conditionEvents', () => {
  const at = '2026-11-24T12:00:00Z';
  const c = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message = 'm'): Condition => ({ type, status, reason, message, lastTransitionTime: at });
  it('reports a changed status or reason, Normal for a good state and Warning otherwise', () => {
    const before = [c('Ready', 'False', 'DeploymentNotReady'), c('Degraded', 'False', 'AsExpected'), c('CredentialsReady', 'True', 'TokenIssued')];
    const after = [c('Ready', 'True', 'DeploymentReady', '2 of 2 pods'), c('Degraded', 'True', 'TLSNotImplemented', 'no cert'), c('CredentialsReady', 'True', 'TokenIssued', 'new message only')];
    expect(conditionEvents(before, after)).toEqual([
      { type: 'Normal', reason: 'DeploymentReady', message: 'Ready=True: 2 of 2 pods' },
      { type: 'Warning', reason: 'TLSNotImplemented', message: 'Degraded=True: no cert' },
    ]);
  });
  it('reports new conditions, except ones that start Unknown', () => {
    expect(conditionEvents(undefined, [c('Ready', 'False', 'Progressing'), c('PoliciesReady', 'Unknown', 'NotEvaluated')])).toEqual([
      { type: 'Warning', reason: 'Progressing', message: 'Ready=False: m' },
    ]);
  });
});
