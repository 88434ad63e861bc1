// An issuer's signing keys (jose createRemoteJWKSet): fetched on first use; re-fetched when a token
// names an unknown `kid` (one shared fetch, then a cooldown, so random kids cannot flood the
// issuer); and refreshed in the background on an interval, off the request path. jose's own
// age-based expiry is disabled on purpose: it re-fetches *on* the request path, so an issuer outage
// longer than the cache age would refuse every token although their keys are known. Here an
// outage keeps the last good keys, as Kubernetes' own OIDC authenticator does.
import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import { AuthenticationError } from '../../core/identity.ts';
import type { FetchLike } from './ca-fetch.ts';

export interface KeySourceOptions {
  readonly cooldownMs: number;
  /** How often keys are refreshed in the background (removed keys stop verifying after this). */
  readonly refreshIntervalMs: number;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly fetch?: FetchLike;
  readonly onRefreshFailure?: (error: unknown) => void;
}

export function createKeySource(jwksUri: URL, options: KeySourceOptions): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(jwksUri, {
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: Number.POSITIVE_INFINITY,
    timeoutDuration: options.timeoutMs,
    ...(options.fetch === undefined ? {} : { [customFetch]: options.fetch }),
  });
  let lastRefreshAt = options.now();
  // Set once keys have been loaded: before that, the request path loads them anyway.
  let loaded = false;

  const refreshInBackground = (): void => {
    if (!loaded || remote.reloading || options.now() - lastRefreshAt < options.refreshIntervalMs) return;
    lastRefreshAt = options.now();
    remote.reload().catch((error: unknown) => options.onRefreshFailure?.(error));
  };

  return async (header, token) => {
    refreshInBackground();
    try {
      const key = await remote(header, token);
      loaded = true;
      return key;
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new AuthenticationError('issuer_unavailable', `signing keys from ${jwksUri.href} could not be loaded: ${error instanceof Error ? error.message : 'unknown error'}`, { cause: error });
    }
  };
}
