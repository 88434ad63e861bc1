// Tokens the cluster itself accepts (ServiceAccount tokens above all), checked with a TokenReview
// (authentication.k8s.io/v1). Successes are cached briefly by the token's SHA-256, as the API
// server caches them; failures never are, so a token that becomes valid is not refused for long
// and a flaky API server does not lock a caller out. Concurrent reviews of one token share a call.
import { decodeJwt } from 'jose';
import { AuthenticationError, type AuthenticatedCaller, type UserInfo } from '../../core/identity.ts';
import { createVerifiedTokenCache } from './verified-token-cache.ts';


export interface TokenReviewRequest {
  readonly apiVersion: 'authentication.k8s.io/v1';
  readonly kind: 'TokenReview';
  readonly spec: { readonly token: string; readonly audiences?: readonly string[] };
}

/** The part of a TokenReview answer that is read; everything is optional on the wire. */
export interface TokenReviewResponse {
  readonly status?: {
    readonly authenticated?: boolean;
    readonly user?: {
      readonly username?: string;
      readonly uid?: string;
      readonly groups?: readonly string[];
      readonly extra?: Readonly<Record<string, readonly string[]>>;
    };
    readonly audiences?: readonly string[];
    readonly error?: string;
  };
}

/** POSTs a TokenReview and returns the API server's answer; the gateway passes its upstream call. */
export type ReviewToken = (review: TokenReviewRequest) => Promise<TokenReviewResponse>;

export interface TokenReviewAuthenticatorOptions {
  readonly review: ReviewToken;
  /** Asked of the API server; its answer must name at least one of them. Empty: the API server's own. */
  readonly audiences?: readonly string[];
  /** Default 10 000 (the API server's own success cache TTL). 0 disables caching. */
  readonly cacheTtlMs?: number;
  /** Default 4096; the least recently used entry goes first. */
  readonly cacheMaxEntries?: number;
  readonly now?: () => number;
}

export interface TokenReviewAuthenticator {
  /** Throws AuthenticationError. */
  authenticate(token: string): Promise<AuthenticatedCaller>;
}

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

function redact(text: string, token: string): string {
  return token === '' ? text : text.split(token).join('[token]');
}

/** The token's own expiry, read without verification: the API server has just accepted it. */
function tokenExpiry(token: string): Date | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

function userFrom(user: NonNullable<NonNullable<TokenReviewResponse['status']>['user']>, username: string): UserInfo {
  const extra: Record<string, readonly string[]> = {};
  for (const [key, values] of Object.entries(user.extra ?? {})) {
    if (Array.isArray(values)) extra[key] = values.filter((v) => typeof v === 'string');
  }
  return {
    username,
    ...(typeof user.uid === 'string' && user.uid !== '' ? { uid: user.uid } : {}),
    groups: (user.groups ?? []).filter((g) => typeof g === 'string'),
    extra,
  };
}

function callerFrom(response: TokenReviewResponse, token: string, audiences: readonly string[]): AuthenticatedCaller {
  const status = response.status;
  if (status?.authenticated !== true) {
    const detail = typeof status?.error === 'string' && status.error !== '' ? `: ${redact(status.error, token).slice(0, 200)}` : '';
    throw new AuthenticationError('invalid_token', `the API server did not authenticate the token${detail}`);
  }
  if (audiences.length > 0 && !(status.audiences ?? []).some((a) => audiences.includes(a))) {
    throw new AuthenticationError('wrong_audience', `the token is not valid for any of the audiences ${audiences.join(', ')}`);
  }
  const username = status.user?.username;
  if (status.user === undefined || typeof username !== 'string' || username === '') {
    throw new AuthenticationError('invalid_token', 'the API server authenticated the token but named no user');
  }
  const expiresAt = tokenExpiry(token);
  return {
    user: userFrom(status.user, username),
    method: username.startsWith(SERVICE_ACCOUNT_PREFIX) ? 'serviceaccount' : 'token',
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

export function createTokenReviewAuthenticator(options: TokenReviewAuthenticatorOptions): TokenReviewAuthenticator {
  const audiences = [...(options.audiences ?? [])];
  const cache = createVerifiedTokenCache({
    ttlMs: options.cacheTtlMs ?? 10_000, maxEntries: options.cacheMaxEntries ?? 4096, now: options.now ?? Date.now, owner: 'TokenReview',
  });

  const review = async (token: string): Promise<AuthenticatedCaller> => {
    let response: TokenReviewResponse;
    try {
      response = await options.review({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences.length > 0 ? { audiences } : {}) } });
    } catch (error) {
      // Not kept as the cause: a transport error could in principle echo what it sent.
      throw new AuthenticationError('review_failed', `TokenReview failed: ${redact(error instanceof Error ? error.message : 'unknown error', token)}`);
    }
    return callerFrom(response, token, audiences);
  };

  return {
    authenticate(token) {
      if (token === '') return Promise.reject(new AuthenticationError('missing_token', 'no bearer token'));
      return cache.get(token, review);
    },
  };
}
