// Time as the runtime sees it. Passed in everywhere (never read from globals) so that tests drive
// backoff, requeue delays, resync and lease expiry with a fake clock instead of sleeping.

/** Cancels a timer; calling it after the timer fired, or twice, does nothing. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `delayMs`, however long that is (see `armInSteps`). */
  setTimer(fn: () => void, delayMs: number): CancelTimer;
}

/**
 * The longest delay one Node timer can hold (2^31-1 ms, about 24.8 days). Node turns a longer
 * one into 1 ms with a TimeoutOverflowWarning, so a far-future deadline (an expiry in 2030, a
 * rotation a year out) would fire at once, be re-armed, and fire again: a hot loop.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Arms one timer of at most MAX_TIMER_DELAY_MS: what a Clock builds `setTimer` on. */
export type ArmTimer = (fn: () => void, delayMs: number) => CancelTimer;

/**
 * Runs `fn` once after `delayMs` by arming `arm` for at most MAX_TIMER_DELAY_MS at a time and
 * re-arming for what is left. A delay that is not a positive number runs `fn` on the next timer
 * turn, as setTimeout does; Infinity never runs it (one timer every 24.8 days, no more).
 */
export function armInSteps(arm: ArmTimer, fn: () => void, delayMs: number): CancelTimer {
  let remaining = delayMs > 0 ? delayMs : 0;
  let cancelStep: CancelTimer = () => undefined;
  const step = (): void => {
    const wait = Math.min(remaining, MAX_TIMER_DELAY_MS);
    remaining -= wait;
    cancelStep = arm(() => { if (remaining > 0) step(); else fn(); }, wait);
  };
  step();
  return () => { cancelStep(); };
}

/**
 * setTimeout for any delay (see `armInSteps`); `unref` lets the process exit while it waits.
 * Every timer in operator/ and gateway/ whose delay is computed or configured goes through here.
 */
export function setLongTimeout(fn: () => void, delayMs: number, options: { unref?: boolean } = {}): CancelTimer {
  return armInSteps((step, wait) => {
    const handle = setTimeout(step, wait);
    if (options.unref === true) handle.unref();
    return () => { clearTimeout(handle); };
  }, fn, delayMs);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, delayMs) => setLongTimeout(fn, delayMs),
};

/** Resolves after `delayMs` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) { resolve(); return; }
    const onAbort = (): void => { cancel(); resolve(); };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
