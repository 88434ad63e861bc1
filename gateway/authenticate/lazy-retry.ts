// A value loaded on first use, with one load in flight at a time and exponential backoff between
// failed loads. The gateway must start (and keep serving other callers) while an issuer is down;
// requests meanwhile fail fast with the last error instead of each waiting for a new attempt.

export interface LazyRetryOptions {
  /** Milliseconds since epoch; injected so tests control time. */
  readonly now: () => number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Called after each failed load, e.g. to log it once per attempt rather than per request. */
  readonly onFailure?: (error: unknown, retryInMs: number) => void;
}

export interface LazyRetry<T> {
  /** The value, loading it if no load is in flight and the backoff has passed; else the last error. */
  get(): Promise<T>;
  /** The value if it has been loaded. */
  current(): T | undefined;
}

export function lazyRetry<T>(load: () => Promise<T>, options: LazyRetryOptions): LazyRetry<T> {
  let value: { readonly v: T } | undefined;
  let inFlight: Promise<T> | undefined;
  let lastError: unknown;
  let failures = 0;
  let nextAttemptAt = 0;

  const attempt = async (): Promise<T> => {
    try {
      const v = await load();
      value = { v };
      return v;
    } catch (error) {
      lastError = error;
      const backoff = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** failures);
      failures += 1;
      nextAttemptAt = options.now() + backoff;
      options.onFailure?.(error, backoff);
      throw error;
    } finally {
      inFlight = undefined;
    }
  };

  return {
    get() {
      if (value !== undefined) return Promise.resolve(value.v);
      if (inFlight !== undefined) return inFlight;
      // The stored error is the one the load threw, so callers see the same typed error.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      if (failures > 0 && options.now() < nextAttemptAt) return Promise.reject(lastError);
      inFlight = attempt();
      return inFlight;
    },
    current: () => value?.v,
  };
}
