// The memory the gateway may spend on request bodies it holds whole (audit level Request, the body
// digest of an approval), across all requests at once. Without it, N concurrent 3 MiB bodies cost
// N × 3 MiB; with it, a body that does not fit waits briefly, in arrival order, for one that is
// released, and is refused (429) when none is. Reservations are made before the first byte is read
// and cover every byte read, so `reservedBytes` bounds what bodies hold (see request-limits.ts).

export interface BodyBudget {
  /**
   * Reserves `bytes`, waiting up to `waitMs` behind earlier reservations; resolves with the release
   * (idempotent), or undefined when the bytes did not fit in time.
   */
  reserve(bytes: number, waitMs: number): Promise<(() => void) | undefined>;
  /** Bytes reserved now. */
  readonly reservedBytes: number;
  /** The most ever reserved at once. */
  readonly peakBytes: number;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: (release: () => void) => void;
  readonly timer: NodeJS.Timeout;
}

export function createBodyBudget(capacity: number, observe?: (reservedBytes: number) => void): BodyBudget {
  if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError('body budget: the capacity must be a positive integer of bytes');
  let reserved = 0;
  let peak = 0;
  // First come, first served: a large body is not passed over forever by a stream of small ones.
  const queue: Waiter[] = [];

  const take = (bytes: number): (() => void) => {
    reserved += bytes;
    peak = Math.max(peak, reserved);
    observe?.(reserved);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      reserved -= bytes;
      observe?.(reserved);
      grantWaiting();
    };
  };
  const grantWaiting = (): void => {
    for (let next = queue[0]; next !== undefined && reserved + next.bytes <= capacity; next = queue[0]) {
      queue.shift();
      clearTimeout(next.timer);
      next.grant(take(next.bytes));
    }
  };

  return {
    reserve(bytes, waitMs) {
      if (!Number.isInteger(bytes) || bytes < 0) return Promise.reject(new TypeError('body budget: reserve a non-negative integer of bytes'));
      if (bytes > capacity) return Promise.resolve(undefined);
      if (queue.length === 0 && reserved + bytes <= capacity) return Promise.resolve(take(bytes));
      if (waitMs <= 0) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const waiter: Waiter = {
          bytes,
          grant: resolve,
          timer: setTimeout(() => {
            queue.splice(queue.indexOf(waiter), 1);
            resolve(undefined);
            // The head of the queue gave up: those behind it may fit now.
            grantWaiting();
          }, waitMs),
        };
        queue.push(waiter);
      });
    },
    get reservedBytes() { return reserved; },
    get peakBytes() { return peak; },
  };
}
