// One OIDC issuer, configured like kube-apiserver's structured JWTAuthenticator: discovery (lazy,
// retried with backoff), keys from the issuer's JWKS, and a token verified with issuer, audience
// and algorithms pinned, `exp` required, `nbf` honoured, both within the allowed clock skew.
import { readFileSync } from 'node:fs';
import { jwtVerify, type JWTVerifyGetKey } from 'jose';
import { AuthenticationError, type AuthenticatedCaller } from '../../core/identity.ts';
import { caFetch, type FetchLike } from './ca-fetch.ts';
import { discoverIssuer, type IssuerMetadata } from './oidc-discovery.ts';
import { createKeySource } from './jwks.ts';
import { fromJoseError } from './jose-errors.ts';
import { mapClaims, type ClaimMapping } from './oidc-claims.ts';
import { lazyRetry } from './lazy-retry.ts';
import { createVerifiedTokenCache } from './verified-token-cache.ts';

/** Asymmetric algorithms only, as kube-apiserver allows: never `none`, never HS* (a public key is no secret). */
export const ALLOWED_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'];

/** Structurally a subset of the gateway config's `authentication.oidc[]` entry. */
export interface OidcAuthenticatorOptions {
  readonly issuerURL: string;
  readonly discoveryURL?: string;
  /** The token's `aud` must contain at least one (MatchAny). */
  readonly audiences: readonly string[];
  /** Default ['RS256']. */
  readonly algorithms?: readonly string[];
  /** Default 'sub'. */
  readonly usernameClaim?: string;
  /** Required ('' for none), so issuer users cannot collide with cluster users by accident. */
  readonly usernamePrefix: string;
  readonly uidClaim?: string;
  readonly groupsClaim?: string;
  /** Default ''. */
  readonly groupsPrefix?: string;
  /** Each claim must be present with exactly this string value. */
  readonly requiredClaims?: Readonly<Record<string, string>>;
  /** Claims passed on (verified) for AccessPolicy subjects, e.g. repository, ref, environment. */
  readonly claimsForPolicy?: readonly string[];
  /** Default 30 (see DEFAULT_CLOCK_SKEW_SECONDS). */
  readonly clockSkewSeconds?: number;
  /** PEM bundle trusted for discovery and JWKS (instead of the system roots). */
  readonly caFile?: string;
  /** Tests and local issuers only: allow http:// issuer and JWKS URLs. */
  readonly allowInsecureHttp?: boolean;
}

/** Timing and hooks; defaults suit production, tests shorten them. */
export interface OidcRuntimeOptions {
  readonly now?: () => number;
  readonly discoveryTimeoutSeconds?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly jwksCooldownMs?: number;
  readonly jwksRefreshIntervalMs?: number;
  readonly jwksTimeoutMs?: number;
  /**
   * How long a verified token is trusted without verifying its signature again (default 10 000 ms,
   * never past its `exp`; 0 disables). Bounds how long a key removed from the issuer's JWKS keeps
   * working for tokens already seen.
   */
  readonly verifiedCacheTtlMs?: number;
  readonly verifiedCacheMaxEntries?: number;
  /** Receives failures of discovery and of background key refreshes (never a token). */
  readonly onIssuerProblem?: (issuerURL: string, error: unknown) => void;
}

export interface OidcAuthenticator {
  readonly issuerURL: string;
  /** Verifies a token whose (unverified) `iss` is this issuer. Throws AuthenticationError. */
  authenticate(token: string): Promise<AuthenticatedCaller>;
  /** Whether discovery has succeeded. */
  ready(): boolean;
  /** Starts discovery now (never rejects), so the first caller does not wait for it. */
  warmUp(): Promise<void>;
}

/**
 * Short-lived CI tokens make every second of extra validity count; NTP-synced clocks drift far
 * less than this. kube-apiserver allows none on `exp`; a little avoids flakiness at the edges.
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

interface Settings extends ClaimMapping {
  readonly issuerURL: string;
  readonly discoveryURL?: string;
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  readonly allowInsecureHttp: boolean;
  readonly fetch?: FetchLike;
}

function urlProblems(name: string, value: string | undefined, insecure: boolean): string[] {
  if (value === undefined) return [];
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || (insecure && url.protocol === 'http:')) return [];
    return [`${name} must use https${insecure ? ' or http' : ''}`];
  } catch {
    return [`${name} "${value}" is not a URL`];
  }
}

function optionProblems(o: OidcAuthenticatorOptions): string[] {
  const insecure = o.allowInsecureHttp === true;
  const problems = [...urlProblems('issuerURL', o.issuerURL, insecure), ...urlProblems('discoveryURL', o.discoveryURL, insecure)];
  if (o.discoveryURL !== undefined && !o.discoveryURL.includes('/.well-known/')) {
    problems.push('discoveryURL must contain /.well-known/ (openid-client treats any other URL as an issuer to append it to)');
  }
  if (o.audiences.length === 0 || o.audiences.some((a) => a === '')) problems.push('audiences must list at least one non-empty audience');
  for (const alg of o.algorithms ?? []) {
    if (!ALLOWED_ALGORITHMS.includes(alg)) problems.push(`algorithm "${alg}" is not allowed; use ${ALLOWED_ALGORITHMS.join(', ')}`);
  }
  if (o.algorithms?.length === 0) problems.push('algorithms must not be empty (leave it unset for RS256)');
  if (o.usernameClaim === '') problems.push('usernameClaim must not be empty');
  const skew = o.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!Number.isInteger(skew) || skew < 0 || skew > 300) problems.push('clockSkewSeconds must be an integer from 0 to 300');
  return problems;
}

function readCa(caFile: string): Buffer {
  try {
    return readFileSync(caFile);
  } catch (error) {
    throw new TypeError(`OIDC issuer: caFile ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

function settingsFrom(o: OidcAuthenticatorOptions): Settings {
  const problems = optionProblems(o);
  if (problems.length > 0) throw new TypeError(`OIDC issuer ${o.issuerURL}: ${problems.join('; ')}`);
  return {
    issuerURL: o.issuerURL,
    ...(o.discoveryURL === undefined ? {} : { discoveryURL: o.discoveryURL }),
    audiences: [...o.audiences],
    algorithms: o.algorithms === undefined ? ['RS256'] : [...o.algorithms],
    usernameClaim: o.usernameClaim ?? 'sub',
    usernamePrefix: o.usernamePrefix,
    ...(o.uidClaim === undefined ? {} : { uidClaim: o.uidClaim }),
    ...(o.groupsClaim === undefined ? {} : { groupsClaim: o.groupsClaim }),
    groupsPrefix: o.groupsPrefix ?? '',
    requiredClaims: { ...o.requiredClaims },
    claimsForPolicy: [...(o.claimsForPolicy ?? [])],
    clockSkewSeconds: o.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
    allowInsecureHttp: o.allowInsecureHttp === true,
    ...(o.caFile === undefined ? {} : { fetch: caFetch(readCa(o.caFile)) }),
  };
}

/** Throws TypeError, naming every problem, when the options are invalid. */
export function createOidcAuthenticator(options: OidcAuthenticatorOptions, runtime: OidcRuntimeOptions = {}): OidcAuthenticator {
  const s = settingsFrom(options);
  const now = runtime.now ?? Date.now;
  const report = (error: unknown): void => { runtime.onIssuerProblem?.(s.issuerURL, error); };
  const provider = lazyRetry<{ metadata: IssuerMetadata; keys: JWTVerifyGetKey }>(async () => {
    const metadata = await discoverIssuer({
      issuerURL: s.issuerURL, allowInsecureHttp: s.allowInsecureHttp, timeoutSeconds: runtime.discoveryTimeoutSeconds ?? 10,
      ...(s.discoveryURL === undefined ? {} : { discoveryURL: s.discoveryURL }),
      ...(s.fetch === undefined ? {} : { fetch: s.fetch }),
    });
    const keys = createKeySource(metadata.jwksUri, {
      cooldownMs: runtime.jwksCooldownMs ?? 10_000,
      refreshIntervalMs: runtime.jwksRefreshIntervalMs ?? 600_000,
      timeoutMs: runtime.jwksTimeoutMs ?? 5_000,
      now,
      onRefreshFailure: report,
      ...(s.fetch === undefined ? {} : { fetch: s.fetch }),
    });
    return { metadata, keys };
  }, { now, initialBackoffMs: runtime.retryInitialMs ?? 1_000, maxBackoffMs: runtime.retryMaxMs ?? 30_000, onFailure: report });

  const verified = createVerifiedTokenCache({
    ttlMs: runtime.verifiedCacheTtlMs ?? 10_000, maxEntries: runtime.verifiedCacheMaxEntries ?? 4096, now, owner: `OIDC issuer ${s.issuerURL}`,
  });

  async function verify(token: string): Promise<AuthenticatedCaller> {
    const { keys } = await provider.get().catch((error: unknown) => {
      throw error instanceof AuthenticationError ? error : new AuthenticationError('issuer_unavailable', 'the issuer could not be set up', { cause: error });
    });
    let verified;
    try {
      verified = await jwtVerify(token, keys, {
        issuer: s.issuerURL,
        audience: [...s.audiences],
        algorithms: [...s.algorithms],
        requiredClaims: ['exp'],
        clockTolerance: s.clockSkewSeconds,
        currentDate: new Date(now()),
      });
    } catch (error) {
      throw fromJoseError(error);
    }
    const { payload } = verified;
    const { user, claims } = mapClaims(payload, s);
    if (typeof payload.exp !== 'number') throw new AuthenticationError('missing_claim', 'the "exp" claim is missing');
    return { user, method: 'oidc', issuer: s.issuerURL, claims, expiresAt: new Date(payload.exp * 1000) };
  }

  return {
    issuerURL: s.issuerURL,
    ready: () => provider.current() !== undefined,
    warmUp: () => provider.get().then(() => undefined, () => undefined),
    // A signature check per request costs a thread-pool round trip; a token seen moments ago is
    // trusted until the cache TTL or its own exp, like the API server's token cache.
    authenticate: (token) => verified.get(token, verify),
  };
}
