// Lease-based leader election (coordination.k8s.io/v1), after client-go's leaderelection: every
// retryPeriod each participant reads the Lease; the holder renews it, others wait until it is
// released or has not changed for a lease duration, then take it over. Every write carries the
// resourceVersion that was read, so of two racing writers the API server lets exactly one win
// (the other gets 409 Conflict).
//
// Safety: a leader that has not renewed for renewDeadline stops leading (aborts the signal given to
// onStartedLeading, then calls onStoppedLeading). The deadline is a timer, not a check after each
// call, so a hung request cannot keep a stale leader acting. Since renewDeadline < lease
// duration, it stops before any other participant may consider the lease expired.
//
// An elector leads at most once. After it loses leadership it is finished (`done` resolves); as
// client-go recommends, exit the process or start a new elector, so that nothing from the old term
// survives into a new one.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { describeError, isConflict } from './api-errors.ts';
import { sleep, systemClock, type CancelTimer, type Clock } from './clock.ts';
import { createLease, readLease, replaceLease, type LeaseApi, type LeaseRef } from './lease-api.ts';
import { decide, observe, releasedSpec, renewDeadlinePassed, specFor, type LeaseObservation } from './lease-decision.ts';

export interface LeaderElectionOptions {
  readonly api: LeaseApi;
  readonly lease: LeaseRef;
  /** Unique per process; default `defaultIdentity()`. */
  readonly identity?: string;
  /** How long a lease stays valid without renewal. Default 15. */
  readonly leaseDurationSeconds?: number;
  /** A leader that could not renew for this long stops leading. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  readonly retryPeriodMs?: number;
  readonly clock?: Clock;
  readonly log: Logger;
  /** Called on becoming leader; `signal` aborts when leadership ends. Not awaited. */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once when leadership ends, after the signal aborted; awaited before a release. */
  readonly onStoppedLeading?: () => void | Promise<void>;
}

export interface LeaderElector {
  readonly identity: string;
  isLeader(): boolean;
  /** The holder this elector last saw ('' when released, undefined before the first read). */
  observedHolder(): string | undefined;
  /** Resolves when the elector has finished (lost leadership or released) and onStoppedLeading returned. */
  readonly done: Promise<void>;
  /**
   * Graceful shutdown: stops trying, ends leadership (awaiting onStoppedLeading, so work stops
   * before a successor starts) and, if this elector still holds the lease, empties its holder so
   * another participant takes over at its next attempt instead of waiting out the lease.
   */
  release(): Promise<void>;
}

/** `<pod name>_<random>`: the pod name for people reading the Lease, the random part for uniqueness. */
export function defaultIdentity(): string {
  return `${process.env['POD_NAME'] ?? hostname()}_${randomUUID()}`;
}

export interface LeaderElectionSettings {
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly clock: Clock;
}

export function validateLeaderElection(options: LeaderElectionOptions): LeaderElectionSettings {
  const leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  const problems: string[] = [];
  if (!Number.isInteger(leaseDurationSeconds) || leaseDurationSeconds < 1) problems.push(`leaseDurationSeconds must be a positive integer, got ${leaseDurationSeconds}`);
  if (!(renewDeadlineMs < leaseDurationSeconds * 1000)) problems.push(`renewDeadlineMs (${renewDeadlineMs}) must be less than the lease duration (${leaseDurationSeconds * 1000} ms)`);
  if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs)) problems.push(`retryPeriodMs (${retryPeriodMs}) must be positive and less than renewDeadlineMs (${renewDeadlineMs})`);
  if (options.identity === '') problems.push('identity must not be empty');
  if (problems.length > 0) throw new TypeError(`leader election: ${problems.join('; ')}`);
  return { identity: options.identity ?? defaultIdentity(), leaseDurationSeconds, renewDeadlineMs, retryPeriodMs, clock: options.clock ?? systemClock };
}

/**
 * One elector's leadership: the term starts at the first successful write as holder, each later
 * one pushes the renew deadline back, and it ends once (deadline, lost lease, or release).
 */
interface Leadership {
  isLeading(): boolean;
  /** Ended: the elector makes no more attempts. */
  isEnded(): boolean;
  renewed(attemptStartedAt: number): void;
  /** Ends candidacy and any term; resolves after onStoppedLeading returned. */
  end(reason: string): Promise<void>;
  readonly ended: Promise<undefined>;
}

function createLeadership(options: LeaderElectionOptions, settings: LeaderElectionSettings, log: Logger): Leadership {
  const { clock } = settings;
  const ended = Promise.withResolvers<undefined>();
  let term: { readonly controller: AbortController; cancelDeadline: CancelTimer } | undefined;
  let ending: Promise<void> | undefined;

  const end = (reason: string): Promise<void> => {
    ending ??= (async () => {
      if (term !== undefined) {
        term.cancelDeadline();
        // A release is the graceful path; any other end means this process lost its lease.
        if (reason === 'released') log.info({ reason }, 'stopped leading');
        else log.warn({ reason }, 'stopped leading');
        term.controller.abort(new Error(`leadership ended: ${reason}`));
        try { await options.onStoppedLeading?.(); } catch (error) { log.error({ err: describeError(error) }, 'onStoppedLeading failed'); }
      }
      ended.resolve(undefined);
    })();
    return ending;
  };

  const renewed = (attemptStartedAt: number): void => {
    if (ending !== undefined) return;
    if (term === undefined) {
      const controller = new AbortController();
      term = { controller, cancelDeadline: () => undefined };
      log.info('started leading');
      void Promise.resolve().then(() => options.onStartedLeading(controller.signal))
        .catch((error: unknown) => { log.error({ err: describeError(error) }, 'onStartedLeading failed'); });
    }
    armDeadline(term, attemptStartedAt);
  };

  const armDeadline = (current: NonNullable<typeof term>, lastRenewStartedAt: number): void => {
    current.cancelDeadline();
    const remaining = lastRenewStartedAt + settings.renewDeadlineMs - clock.now();
    current.cancelDeadline = clock.setTimer(() => {
      // Re-checked on firing: a real timer may fire a millisecond before the wall clock agrees.
      if (renewDeadlinePassed(lastRenewStartedAt, clock.now(), settings.renewDeadlineMs)) void end('renew deadline passed');
      else armDeadline(current, lastRenewStartedAt);
    }, remaining);
  };

  return {
    isLeading: () => term !== undefined && ending === undefined,
    isEnded: () => ending !== undefined,
    renewed,
    end,
    ended: ended.promise,
  };
}

export function startLeaderElection(options: LeaderElectionOptions): LeaderElector {
  const settings = validateLeaderElection(options);
  const { identity, clock } = settings;
  const log = options.log.child({ lease: `${options.lease.namespace}/${options.lease.name}`, identity });
  const leadership = createLeadership(options, settings, log);
  const stopTrying = new AbortController();
  void leadership.ended.then(() => { stopTrying.abort(); });
  let observed: LeaseObservation | undefined;

  const attempt = async (): Promise<void> => {
    const startedAt = clock.now();
    const record = await readLease(options.api, options.lease);
    // Checked after every await: release or a passed deadline may have ended this elector.
    if (leadership.isEnded()) return;
    observed = record === undefined ? undefined : observe(observed, record, clock.now());
    const decision = decide(observed, identity, clock.now());
    if (decision.action === 'wait') {
      if (leadership.isLeading()) await leadership.end(`lease taken by ${decision.holder}`);
      return;
    }
    const spec = specFor(decision, record, { identity, leaseDurationSeconds: settings.leaseDurationSeconds, now: clock.now() });
    const written = await (record === undefined ? createLease(options.api, options.lease, spec) : replaceLease(options.api, options.lease, spec, record.resourceVersion));
    if (leadership.isEnded()) return;
    observed = observe(observed, written, clock.now());
    if (decision.action === 'take-over') log.info({ reason: decision.reason, previous: record?.holderIdentity, transitions: written.leaseTransitions }, 'took over the lease');
    leadership.renewed(startedAt);
  };

  const loop = async (): Promise<void> => {
    while (!leadership.isEnded()) {
      try {
        await attempt();
      } catch (error) {
        // A conflict is a lost race (someone else wrote first); the next read shows who won.
        if (isConflict(error)) log.debug('lease write conflicted');
        else log.warn({ err: describeError(error), leading: leadership.isLeading() }, 'lease attempt failed');
      }
      await sleep(clock, settings.retryPeriodMs, stopTrying.signal);
    }
  };
  const looping = loop();

  return {
    identity,
    isLeader: () => leadership.isLeading(),
    observedHolder: () => observed?.record.holderIdentity,
    done: leadership.ended,
    async release() {
      const wasLeading = leadership.isLeading();
      await leadership.end('released');
      // Let an attempt already in flight finish first, so its renewal cannot land on top of the
      // release (it would fail on the resourceVersion anyway, but the release would then be lost).
      const bounded = new AbortController();
      await Promise.race([looping, sleep(clock, settings.renewDeadlineMs, bounded.signal)]);
      bounded.abort();
      if (wasLeading) await writeRelease(options, clock, identity, log);
    },
  };
}

/** Empties the holder if this identity still holds the lease (never overwrites a successor). */
async function writeRelease(options: LeaderElectionOptions, clock: Clock, identity: string, log: Logger): Promise<void> {
  try {
    const record = await readLease(options.api, options.lease);
    if (record?.holderIdentity !== identity) return;
    await replaceLease(options.api, options.lease, releasedSpec(record, clock.now()), record.resourceVersion);
    log.info('released the lease');
  } catch (error) {
    // The lease then expires by itself; a successor only waits longer.
    log.warn({ err: describeError(error) }, 'could not release the lease');
  }
}
