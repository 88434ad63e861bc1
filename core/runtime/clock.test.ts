// Timers longer than Node can hold (2^31-1 ms): an ApprovalRequest that expires in 2030 or a
// credential rotated a year out must wait, not fire in 1 ms and re-arm forever.
import { describe, expect, it } from 'vitest';
import { armInSteps, MAX_TIMER_DELAY_MS, systemClock, type CancelTimer } from './clock.ts';
import { createFakeClock } from './fake-clock.ts';

const DAY = 86_400_000;

/** An ArmTimer that records what it was asked for and fires when told. */
function recordingArm(): { arm: (fn: () => void, ms: number) => CancelTimer; armed: number[]; fire(): void; cancelled: number } {
  let pending: (() => void) | undefined;
  const state = {
    armed: [] as number[],
    cancelled: 0,
    arm: (fn: () => void, ms: number): CancelTimer => {
      state.armed.push(ms);
      pending = fn;
      return () => { state.cancelled += 1; pending = undefined; };
    },
    fire: () => { const fn = pending; pending = undefined; fn?.(); },
  };
  return state;
}

describe('armInSteps', () => {
  it('arms a 60-day delay as steps no longer than Node holds, and runs the callback once at the end', () => {
    const r = recordingArm();
    let runs = 0;
    armInSteps(r.arm, () => { runs += 1; }, 60 * DAY);
    for (let i = 0; i < 10 && runs === 0; i += 1) r.fire();
    expect(runs).toBe(1);
    expect(r.armed.every((ms) => ms <= MAX_TIMER_DELAY_MS)).toBe(true);
    expect(r.armed.reduce((a, b) => a + b, 0)).toBe(60 * DAY);
    expect(r.armed).toEqual([MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS, 60 * DAY - 2 * MAX_TIMER_DELAY_MS]);
  });

  it.each([[0, 0], [-5, 0], [Number.NaN, 0], [1234, 1234], [MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS]])('arms a delay of %s ms as one timer of %s ms', (delay, armed) => {
    const r = recordingArm();
    armInSteps(r.arm, () => undefined, delay);
    expect(r.armed).toEqual([armed]);
  });

  it('cancels whichever step is armed', () => {
    const r = recordingArm();
    let runs = 0;
    const cancel = armInSteps(r.arm, () => { runs += 1; }, 3 * MAX_TIMER_DELAY_MS);
    r.fire();
    cancel();
    r.fire();
    expect([runs, r.cancelled, r.armed.length]).toEqual([0, 1, 2]);
  });

  it('never runs an infinite delay, and re-arms it only once per longest timer', async () => {
    const clock = createFakeClock(0);
    let runs = 0;
    clock.setTimer(() => { runs += 1; }, Number.POSITIVE_INFINITY);
    await clock.advance(365 * DAY);
    expect(runs).toBe(0);
    expect(clock.pendingTimers()).toBe(1);
  });
});

describe('the fake clock', () => {
  it('fires a far-future timer once, at its time, arming no single timer beyond 2^31-1 ms', async () => {
    const clock = createFakeClock(0);
    const fired: number[] = [];
    clock.setTimer(() => { fired.push(clock.now()); }, 400 * DAY);
    await clock.advance(400 * DAY - 1);
    expect(fired).toEqual([]);
    await clock.advance(100 * DAY);
    expect(fired).toEqual([400 * DAY]);
    expect(clock.longestArmedMs()).toBe(MAX_TIMER_DELAY_MS);
  });
});

describe('systemClock (real Node timers)', () => {
  it('holds a 30-day timer without a TimeoutOverflowWarning instead of firing it at once', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.name); };
    process.on('warning', onWarning);
    let fired = false;
    const cancel = systemClock.setTimer(() => { fired = true; }, 30 * DAY);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(fired).toBe(false);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      cancel();
      process.off('warning', onWarning);
    }
  });

  it('still fires a short timer on time', async () => {
    const started = Date.now();
    await new Promise<void>((resolve) => { systemClock.setTimer(resolve, 30); });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
