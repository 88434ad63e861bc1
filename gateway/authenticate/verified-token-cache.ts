// A short-lived cache of successful token verifications, keyed by the token's SHA-256 (the token
// itself is never kept), shared by the OIDC and TokenReview authenticators. An entry lives until
// the TTL or the token's own expiry, whichever is first; the least recently used entry is evicted
// past `maxEntries`. Failures are never cached, so a token that becomes valid is not refused for
// long. Concurrent verifications of one token share a single call (no thundering herd).
import { hash } from 'node:crypto';
import type { AuthenticatedCaller } from '../../core/identity.ts';

export interface VerifiedTokenCacheOptions {
  /** 0 disables caching (concurrent calls are still shared). */
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now: () => number;
  /** Names the owner in option errors, e.g. "TokenReview". */
  readonly owner: string;
}

export interface VerifiedTokenCache {
  /** The cached caller for `token`, or `verify(token)` (cached when it succeeds). */
  get(token: string, verify: (token: string) => Promise<AuthenticatedCaller>): Promise<AuthenticatedCaller>;
  readonly size: () => number;
}

interface Entry {
  readonly caller: AuthenticatedCaller;
  readonly until: number;
}

/** Throws TypeError on a negative TTL or a non-positive size. */
export function createVerifiedTokenCache(options: VerifiedTokenCacheOptions): VerifiedTokenCache {
  const { ttlMs, maxEntries, now, owner } = options;
  if (!Number.isInteger(ttlMs) || ttlMs < 0) throw new TypeError(`${owner}: cacheTtlMs must be a non-negative integer`);
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError(`${owner}: cacheMaxEntries must be a positive integer`);
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<AuthenticatedCaller>>();

  const remember = (key: string, caller: AuthenticatedCaller): void => {
    const until = Math.min(now() + ttlMs, caller.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
    if (ttlMs === 0 || until <= now()) return;
    entries.delete(key);
    entries.set(key, { caller, until });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  };

  return {
    size: () => entries.size,
    get(token, verify) {
      const key = hash('sha256', token, 'base64');
      const hit = entries.get(key);
      if (hit !== undefined) {
        entries.delete(key);
        if (hit.until > now()) {
          entries.set(key, hit); // most recently used goes last
          return Promise.resolve(hit.caller);
        }
      }
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const started = verify(token)
        .then((caller) => { remember(key, caller); return caller; })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return started;
    },
  };
}
