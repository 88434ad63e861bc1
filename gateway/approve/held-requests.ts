// How many requests each caller has held open for approval (mode Wait), capped: a held request
// keeps a client connection and an upstream watch open for up to its timeout, so one caller
// could otherwise hold thousands. Counted per authenticated caller (the identity that holds the
// connections), in this gateway process.

export const DEFAULT_MAX_HELD_PER_CALLER = 8;

export interface HeldRequests {
  readonly max: number;
  /** A release function when the caller is under the cap (call it once the request stops waiting), else undefined. */
  acquire(caller: string): (() => void) | undefined;
  /** Held now, by caller (for tests and metrics). */
  count(caller: string): number;
}

export function createHeldRequests(max: number): HeldRequests {
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`the cap on held requests per caller must be a positive integer, got ${max}`);
  const held = new Map<string, number>();
  return {
    max,
    acquire(caller) {
      const now = held.get(caller) ?? 0;
      if (now >= max) return undefined;
      held.set(caller, now + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (held.get(caller) ?? 1) - 1;
        if (left <= 0) held.delete(caller);
        else held.set(caller, left);
      };
    },
    count: (caller) => held.get(caller) ?? 0,
  };
}
