// A clock for tests: time moves only when a test advances it, and timers fire in due order with
// pending promise callbacks settled between them, so async work scheduled by a timer runs before
// the next timer (as it would on a real event loop with time passing). Like Node, one timer holds
// at most MAX_TIMER_DELAY_MS: `setTimer` arms in steps as the system clock does, and arming a
// longer single timer throws, so a test sees what would be a hot loop in production.
import { armInSteps, MAX_TIMER_DELAY_MS, type CancelTimer, type Clock } from './clock.ts';

interface FakeTimer {
  readonly seq: number;
  readonly dueAt: number;
  readonly fn: () => void;
}

export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): Promise<void>;
  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number;
  /** The longest delay any single timer was armed with so far. */
  longestArmedMs(): number;
}

/** Lets promise chains started by the code under test run to their next real wait. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => { setImmediate(resolve); });
}

export function createFakeClock(startMs = 1_700_000_000_000): FakeClock {
  let now = startMs;
  let seq = 0;
  let timers: FakeTimer[] = [];
  let longest = 0;

  const arm = (fn: () => void, delayMs: number): CancelTimer => {
    if (delayMs > MAX_TIMER_DELAY_MS) throw new RangeError(`fake clock: a timer of ${delayMs} ms is longer than Node can hold (${MAX_TIMER_DELAY_MS} ms)`);
    longest = Math.max(longest, delayMs);
    const timer: FakeTimer = { seq: seq++, dueAt: now + Math.max(0, delayMs), fn };
    timers.push(timer);
    return () => { timers = timers.filter((t) => t !== timer); };
  };

  const nextDue = (until: number): FakeTimer | undefined => {
    let best: FakeTimer | undefined;
    for (const t of timers) {
      if (t.dueAt <= until && (best === undefined || t.dueAt < best.dueAt || (t.dueAt === best.dueAt && t.seq < best.seq))) best = t;
    }
    return best;
  };

  return {
    now: () => now,
    setTimer: (fn, delayMs) => armInSteps(arm, fn, delayMs),
    async advance(ms) {
      const until = now + ms;
      await settle();
      for (let t = nextDue(until); t !== undefined; t = nextDue(until)) {
        const fired = t;
        timers = timers.filter((x) => x !== fired);
        now = Math.max(now, fired.dueAt);
        fired.fn();
        await settle();
      }
      now = until;
      await settle();
    },
    pendingTimers: () => timers.length,
    longestArmedMs: () => longest,
  };
}
