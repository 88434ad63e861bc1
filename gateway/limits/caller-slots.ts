// Concurrency caps per authenticated caller, as kube-apiserver's max-requests-inflight but keyed by
// who is calling: one caller's flood queues behind its own cap instead of everyone's. Ordinary and
// long-running requests (watch, logs, exec, attach, port-forward, proxy) are counted apart, as the
// API server counts them apart: a watch holds its slot for minutes, and a controller's watches must
// not leave it without room for its short requests, nor its short requests starve its watches.

export type SlotKind = 'request' | 'long-running';

export interface CallerSlots {
  /** A slot for `caller`, as a release function (idempotent); undefined at the cap. */
  acquire(caller: string, kind: SlotKind): (() => void) | undefined;
  /** Slots `caller` holds now. */
  held(caller: string, kind: SlotKind): number;
}

type Counts = Record<SlotKind, number>;

export function createCallerSlots(caps: Readonly<Counts>): CallerSlots {
  for (const kind of ['request', 'long-running'] as const) {
    if (!Number.isInteger(caps[kind]) || caps[kind] < 1) throw new TypeError(`caller slots: the ${kind} cap must be a positive integer`);
  }
  // Only callers holding a slot have an entry, so the map is bounded by requests in flight.
  const counts = new Map<string, Counts>();
  return {
    acquire(caller, kind) {
      const current = counts.get(caller) ?? { request: 0, 'long-running': 0 };
      if (current[kind] >= caps[kind]) return undefined;
      current[kind] += 1;
      counts.set(caller, current);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        current[kind] -= 1;
        if (current.request === 0 && current['long-running'] === 0 && counts.get(caller) === current) counts.delete(caller);
      };
    },
    held: (caller, kind) => counts.get(caller)?.[kind] ?? 0,
  };
}
