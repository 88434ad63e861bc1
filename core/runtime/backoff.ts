// Per-key exponential backoff, as client-go's item rate limiter: each failure of a key doubles its
// next delay up to a cap, and a success (`forget`) starts it over. Keys that fail do not slow
// down keys that succeed.

export interface BackoffOptions {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** Longest delay, however many failures. */
  readonly maxMs: number;
}

/** client-go's defaults for controllers: 5 ms doubling up to 1000 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 5, maxMs: 1_000_000 };

/** Delay after `failures` earlier failures (0 → base). */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  // 2 ** 1024 is Infinity, so the cap also keeps very long failure streaks finite.
  return Math.min(options.maxMs, options.baseMs * 2 ** failures);
}

export function validateBackoff(options: BackoffOptions, what: string): void {
  if (!Number.isFinite(options.baseMs) || options.baseMs <= 0) throw new TypeError(`${what}: baseMs must be a positive number, got ${options.baseMs}`);
  if (!Number.isFinite(options.maxMs) || options.maxMs < options.baseMs) throw new TypeError(`${what}: maxMs must be at least baseMs, got ${options.maxMs}`);
}

export interface ItemBackoff {
  /** Records a failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number;
  /** Forgets `key`'s failures (after a success). */
  forget(key: string): void;
  /** Failures of `key` since it was last forgotten. */
  failures(key: string): number;
}

export function createItemBackoff(options: BackoffOptions = DEFAULT_BACKOFF): ItemBackoff {
  validateBackoff(options, 'backoff');
  const failures = new Map<string, number>();
  return {
    next(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      return backoffDelay(n, options);
    },
    forget(key) { failures.delete(key); },
    failures: (key) => failures.get(key) ?? 0,
  };
}
