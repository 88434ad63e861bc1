// Who a request comes from, as the authentication stage established it, and the one error type
// that stage throws.

export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export type AuthenticationMethod = 'oidc' | 'serviceaccount' | 'token';

export interface AuthenticatedCaller {
  readonly user: UserInfo;
  readonly method: AuthenticationMethod;
  /** The OIDC issuer that vouched for the caller. */
  readonly issuer?: string;
  /** Only the claims configured as policy-visible (e.g. GitHub Actions' repository, ref). */
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly expiresAt?: Date;
}

export type AuthenticationErrorCode =
  /** No bearer token in the request. */
  | 'missing_token'
  /** Malformed, or no configured authenticator accepts it. */
  | 'invalid_token'
  | 'invalid_signature'
  | 'expired'
  /** `nbf` is later than now plus the allowed clock skew. */
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'unsupported_algorithm'
  /** No key in the issuer's (refreshed) JWKS matches the token's `kid`. */
  | 'unknown_key'
  | 'missing_claim'
  /** A claim is present but has the wrong type or value. */
  | 'invalid_claim'
  /** Discovery or the JWKS could not be fetched: the caller may retry. */
  | 'issuer_unavailable'
  /** The TokenReview call itself failed: the caller may retry. */
  | 'review_failed'
  /** Valid, but its identity cannot travel upstream unchanged as impersonation headers
   * (surrounding whitespace, control characters): refused rather than forwarded as someone else. */
  | 'unforwardable_identity';

/**
 * Authentication refused. `reason` is detail for logs; neither it nor `message` ever contains the
 * token (or any part of it), so the error can be logged whole.
 */
export class AuthenticationError extends Error {
  readonly code: AuthenticationErrorCode;
  readonly reason: string;

  constructor(code: AuthenticationErrorCode, reason: string, options?: { cause?: unknown }) {
    super(`authentication failed (${code}): ${reason}`, options);
    this.name = 'AuthenticationError';
    this.code = code;
    this.reason = reason;
  }

  /** Whether the failure is on the issuer's or the API server's side, not the token's. */
  get retryable(): boolean {
    return this.code === 'issuer_unavailable' || this.code === 'review_failed';
  }
}

/** Adds `system:authenticated` (as kube-apiserver does for every authenticated user) and dedupes. */
export function withAuthenticatedGroup(groups: readonly string[]): string[] {
  return [...new Set([...groups, 'system:authenticated'])];
}
