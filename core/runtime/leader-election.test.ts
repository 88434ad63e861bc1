import { ApiException } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from './fake-clock.ts';
import { createInMemoryLeaseApi, withFaults, type FaultyLeaseApi, type InMemoryLeaseApi } from './fake-lease-api.ts';
import { leaseRecord, toV1Lease } from './lease-api.ts';
import { startLeaderElection, validateLeaderElection, type LeaderElectionOptions, type LeaderElector } from './leader-election.ts';

const lease = { namespace: 'airlock-system', name: 'airlock-operator' };

interface Participant {
  readonly elector: LeaderElector;
  readonly api: FaultyLeaseApi;
  /** Fake times of onStartedLeading and onStoppedLeading. */
  readonly events: { started?: number; stopped?: number; signal?: AbortSignal };
  readonly lines: { level: number; msg: string }[];
}

function participant(clock: FakeClock, store: InMemoryLeaseApi, identity: string, extra: Partial<LeaderElectionOptions> = {}): Participant {
  const api = withFaults(store);
  const events: Participant['events'] = {};
  const lines: Participant['lines'] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s) as { level: number; msg: string }); } });
  const elector = startLeaderElection({
    api, lease, identity, clock, log,
    onStartedLeading: (signal) => { events.started = clock.now(); events.signal = signal; },
    onStoppedLeading: () => { events.stopped = clock.now(); },
    ...extra,
  });
  return { elector, api, events, lines };
}

const holder = (store: InMemoryLeaseApi): string | undefined => store.current()?.spec?.holderIdentity;

describe('leader election on an in-memory lease (defaults 15 s / 10 s / 2 s)', () => {
  it('lets exactly one of two participants lead, and the other keeps waiting', async () => {
    const clock = createFakeClock(0);
    const store = createInMemoryLeaseApi();
    const a = participant(clock, store, 'a');
    const b = participant(clock, store, 'b');
    await clock.advance(60_000);
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    expect(holder(store)).toBe('a');
    expect(b.elector.observedHolder()).toBe('a');
    expect(store.current()?.spec?.leaseTransitions).toBe(0);
    // The create race: b's create got 409, quietly.
    expect(b.lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it('hands over at the next attempt after a release, and the old leader stops first', async () => {
    const clock = createFakeClock(0);
    const store = createInMemoryLeaseApi();
    const a = participant(clock, store, 'a');
    await clock.advance(1);
    const b = participant(clock, store, 'b');
    await clock.advance(10_000);
    const releasedAt = clock.now();
    await a.elector.release();
    expect(a.events.signal?.aborted).toBe(true);
    expect(holder(store)).toBe('');
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.events.started! - releasedAt).toBeLessThanOrEqual(2_000);
    expect(a.events.stopped).toBeLessThanOrEqual(b.events.started!);
    expect(store.current()?.spec?.leaseTransitions).toBe(1);
    await expect(a.elector.done).resolves.toBeUndefined();
  });

  it.each([
    { fault: 'fail', what: 'API calls fail (403)' },
    { fault: 'hang', what: 'API calls hang' },
  ] as const)('stops a leader whose $what at the renew deadline, before the lease expires for the others', async ({ fault }) => {
    const clock = createFakeClock(0);
    const store = createInMemoryLeaseApi();
    const a = participant(clock, store, 'a');
    await clock.advance(1);
    const b = participant(clock, store, 'b');
    await clock.advance(9_000);
    const lastRenewal = leaseRecord(store.current()!).renewTime!;
    if (fault === 'fail') a.api.failWith(new ApiException(403, 'Forbidden', { reason: 'Forbidden' }, {}));
    else a.api.hang();
    await clock.advance(30_000);
    expect(a.events.stopped).toBe(lastRenewal + 10_000);
    expect(a.events.signal?.aborted).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
    expect(b.events.started).toBeGreaterThanOrEqual(lastRenewal + 15_000);
    expect(b.events.started! - a.events.stopped!).toBeGreaterThanOrEqual(5_000);
    expect(store.current()?.spec?.leaseTransitions).toBe(1);
  });

  it('takes over an abandoned lease one lease duration after it last saw it change', async () => {
    const clock = createFakeClock(100_000);
    const store = createInMemoryLeaseApi();
    await store.createNamespacedLease({ namespace: lease.namespace, body: toV1Lease(lease, { holderIdentity: 'ghost', leaseDurationSeconds: 15, acquireTime: 0, renewTime: 0, leaseTransitions: 4 }) });
    const b = participant(clock, store, 'b');
    await clock.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(2_000);
    expect(b.events.started).toBe(116_000);
    expect(store.current()?.spec?.leaseTransitions).toBe(5);
  });

  it('does not start a term after release, even if it never led', async () => {
    const clock = createFakeClock(0);
    const store = createInMemoryLeaseApi();
    const a = participant(clock, store, 'a');
    await a.elector.release();
    await clock.advance(10_000);
    expect(a.events.started).toBeUndefined();
    expect(a.elector.isLeader()).toBe(false);
  });

  it('keeps leading through a short API outage shorter than the renew deadline', async () => {
    const clock = createFakeClock(0);
    const store = createInMemoryLeaseApi();
    const a = participant(clock, store, 'a');
    await clock.advance(1);
    a.api.failWith(new Error('connect ECONNREFUSED'));
    await clock.advance(7_000);
    a.api.heal();
    await clock.advance(30_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events.stopped).toBeUndefined();
    expect(a.lines.filter((l) => l.msg === 'lease attempt failed').length).toBeGreaterThanOrEqual(3);
  });
});

describe('leader election options', () => {
  const base = { api: createInMemoryLeaseApi(), lease, log: pino({ level: 'silent' }), onStartedLeading: () => undefined };
  it.each([
    [{ leaseDurationSeconds: 0 }, 'leaseDurationSeconds must be a positive integer, got 0; renewDeadlineMs (10000) must be less than the lease duration (0 ms)'],
    [{ leaseDurationSeconds: 10, renewDeadlineMs: 10_000 }, 'renewDeadlineMs (10000) must be less than the lease duration (10000 ms)'],
    [{ retryPeriodMs: 10_000 }, 'retryPeriodMs (10000) must be positive and less than renewDeadlineMs (10000)'],
    [{ identity: '' }, 'identity must not be empty'],
  ])('rejects %j with a TypeError', (options, message) => {
    expect(() => validateLeaderElection({ ...base, ...options })).toThrow(new TypeError(`leader election: ${message}`));
  });

  it('defaults to 15 s / 10 s / 2 s and an identity of pod name plus a random part', () => {
    const settings = validateLeaderElection(base);
    expect(settings).toMatchObject({ leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    expect(settings.identity).toMatch(/^.+_[0-9a-f-]{36}$/);
  });
});
