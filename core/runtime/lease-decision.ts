// The leader elector's decisions as pure functions of what it observed and the local clock, so the
// rules that keep two leaders from overlapping are tested by tables.
//
// Expiry is judged by when *this* process first saw the current version of the lease (client-go's
// observedTime), never by the renewTime written in it: the writer's clock may be skewed, ours is
// monotonic enough over a lease duration. A candidate therefore waits a full lease duration after
// it last saw the lease change before it may take over.

export interface LeaseRecord {
  /** Current holder; '' when the lease was released. */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** Milliseconds since the epoch, as the holder wrote them; informational only. */
  readonly acquireTime?: number;
  readonly renewTime?: number;
  readonly leaseTransitions: number;
  readonly resourceVersion: string;
}

export interface LeaseObservation {
  readonly record: LeaseRecord;
  /** Local time when this version of the record was first seen. */
  readonly observedAt: number;
}

export type LeaseDecision =
  | { readonly action: 'create' }
  | { readonly action: 'renew' }
  | { readonly action: 'take-over'; readonly reason: 'released' | 'expired' }
  | { readonly action: 'wait'; readonly holder: string; readonly expiresInMs: number };

/** Updates the observation: a new resourceVersion restarts the expiry countdown. */
export function observe(previous: LeaseObservation | undefined, record: LeaseRecord, now: number): LeaseObservation {
  if (previous?.record.resourceVersion === record.resourceVersion) return previous;
  return { record, observedAt: now };
}

/** Milliseconds until the observed lease expires for us (0 or less: expired). */
export function expiresInMs(observation: LeaseObservation, now: number): number {
  return observation.observedAt + observation.record.leaseDurationSeconds * 1000 - now;
}

/** What a participant with `identity` should do with the lease it observed (undefined: none exists). */
export function decide(observation: LeaseObservation | undefined, identity: string, now: number): LeaseDecision {
  if (observation === undefined) return { action: 'create' };
  const holder = observation.record.holderIdentity;
  if (holder === identity) return { action: 'renew' };
  if (holder === '') return { action: 'take-over', reason: 'released' };
  const remaining = expiresInMs(observation, now);
  if (remaining > 0) return { action: 'wait', holder, expiresInMs: remaining };
  return { action: 'take-over', reason: 'expired' };
}

/**
 * A leader must stop acting once `renewDeadlineMs` has passed since the start of its last
 * successful renewal. Others count the lease duration from when they saw that renewal, which is
 * later, so stopping at the (shorter) renew deadline ends our leadership before anyone may start.
 */
export function renewDeadlinePassed(lastRenewStartedAt: number, now: number, renewDeadlineMs: number): boolean {
  return now - lastRenewStartedAt >= renewDeadlineMs;
}

export interface LeaseSpecToWrite {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: number;
  readonly renewTime: number;
  readonly leaseTransitions: number;
}

/** The spec to write for a create, renew or take-over decision. */
export function specFor(
  decision: Exclude<LeaseDecision, { action: 'wait' }>,
  current: LeaseRecord | undefined,
  holder: { readonly identity: string; readonly leaseDurationSeconds: number; readonly now: number },
): LeaseSpecToWrite {
  const base = { holderIdentity: holder.identity, leaseDurationSeconds: holder.leaseDurationSeconds, renewTime: holder.now };
  if (decision.action === 'create' || current === undefined) return { ...base, acquireTime: holder.now, leaseTransitions: 0 };
  if (decision.action === 'renew') return { ...base, acquireTime: current.acquireTime ?? holder.now, leaseTransitions: current.leaseTransitions };
  return { ...base, acquireTime: holder.now, leaseTransitions: current.leaseTransitions + 1 };
}

/**
 * What a leader writes when it steps down gracefully: no holder, so the next candidate to look
 * takes over at once instead of waiting out the lease (client-go's ReleaseOnCancel).
 */
export function releasedSpec(current: LeaseRecord, now: number): LeaseSpecToWrite {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions };
}
