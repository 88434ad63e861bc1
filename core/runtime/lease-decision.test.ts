import { describe, expect, it } from 'vitest';
import { decide, observe, releasedSpec, renewDeadlinePassed, specFor, type LeaseRecord } from './lease-decision.ts';

const record = (fields: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 3, resourceVersion: '7', acquireTime: 1000, renewTime: 5000, ...fields,
});

describe('decide', () => {
  it.each([
    { when: 'no lease exists', lease: undefined, observedAt: 0, now: 0, decision: { action: 'create' } },
    { when: 'we hold it', lease: record({ holderIdentity: 'me' }), observedAt: 0, now: 60_000, decision: { action: 'renew' } },
    { when: 'it was released', lease: record({ holderIdentity: '' }), observedAt: 0, now: 0, decision: { action: 'take-over', reason: 'released' } },
    { when: 'another holder renewed it 5 s ago', lease: record(), observedAt: 10_000, now: 15_000, decision: { action: 'wait', holder: 'other', expiresInMs: 10_000 } },
    { when: 'another holder has 1 ms left', lease: record(), observedAt: 10_000, now: 24_999, decision: { action: 'wait', holder: 'other', expiresInMs: 1 } },
    { when: 'another holder did not renew for exactly the lease duration', lease: record(), observedAt: 10_000, now: 25_000, decision: { action: 'take-over', reason: 'expired' } },
    { when: 'another holder wrote a 1 s lease (released the client-go way) 2 s ago', lease: record({ leaseDurationSeconds: 1 }), observedAt: 0, now: 2000, decision: { action: 'take-over', reason: 'expired' } },
    { when: 'the holder\'s renewTime is far in the future (skewed clock): only our observation counts', lease: record({ renewTime: 9e15 }), observedAt: 0, now: 15_000, decision: { action: 'take-over', reason: 'expired' } },
  ])('when $when: $decision.action', ({ lease, observedAt, now, decision }) => {
    expect(decide(lease === undefined ? undefined : { record: lease, observedAt }, 'me', now)).toEqual(decision);
  });
});

describe('observe', () => {
  it.each([
    { when: 'the first read', previous: undefined, next: record(), observedAt: 500 },
    { when: 'the same resourceVersion again', previous: { record: record(), observedAt: 100 }, next: record(), observedAt: 100 },
    { when: 'a renewal (new resourceVersion)', previous: { record: record(), observedAt: 100 }, next: record({ resourceVersion: '8' }), observedAt: 500 },
  ])('on $when the expiry countdown starts at $observedAt', ({ previous, next, observedAt }) => {
    expect(observe(previous, next, 500)).toEqual({ record: next, observedAt });
  });
});

describe('renewDeadlinePassed', () => {
  it.each([
    { lastRenew: 0, now: 9_999, passed: false },
    { lastRenew: 0, now: 10_000, passed: true },
    { lastRenew: 5_000, now: 12_000, passed: false },
    { lastRenew: 5_000, now: 60_000, passed: true },
  ])('renewal started at $lastRenew, now $now, deadline 10 s: passed=$passed', ({ lastRenew, now, passed }) => {
    expect(renewDeadlinePassed(lastRenew, now, 10_000)).toBe(passed);
  });

  it.each([
    { duration: 15, deadline: 10_000 },
    { duration: 4, deadline: 2_000 },
  ])('a leader stops ($deadline ms) before others may take over ($duration s after they saw its last renewal)', ({ duration, deadline }) => {
    const renewStartedAt = 1000;
    const othersSawItAt = renewStartedAt + 30; // the write reaches the server, then their read
    const othersMayTakeOverAt = othersSawItAt + duration * 1000;
    const stopAt = renewStartedAt + deadline;
    expect(renewDeadlinePassed(renewStartedAt, stopAt, deadline)).toBe(true);
    expect(decide({ record: record(), observedAt: othersSawItAt }, 'me', stopAt).action).toBe('wait');
    expect(stopAt).toBeLessThan(othersMayTakeOverAt);
  });
});

describe('specFor and releasedSpec', () => {
  const holder = { identity: 'me', leaseDurationSeconds: 15, now: 9000 };
  it.each([
    { action: 'create', current: undefined, spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 9000, renewTime: 9000, leaseTransitions: 0 } },
    { action: 'renew', current: record({ holderIdentity: 'me' }), spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 1000, renewTime: 9000, leaseTransitions: 3 } },
    { action: 'take-over', current: record(), spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 9000, renewTime: 9000, leaseTransitions: 4 } },
  ] as const)('$action writes $spec', ({ action, current, spec }) => {
    const decision = action === 'take-over' ? { action, reason: 'expired' as const } : { action };
    expect(specFor(decision, current, holder)).toEqual(spec);
  });

  it('a release empties the holder, shortens the lease to 1 s and keeps the transition count', () => {
    expect(releasedSpec(record({ holderIdentity: 'me' }), 9000)).toEqual({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: 9000, renewTime: 9000, leaseTransitions: 3 });
  });
});
