// The authentication stage: one entry point over every configured way in. A JWT naming a
// configured OIDC issuer is that issuer's alone to judge (fail closed: a forged or expired token
// for a known issuer never falls through to TokenReview); anything else goes to TokenReview when
// it is enabled.
import { AuthenticationError, withAuthenticatedGroup, type AuthenticatedCaller } from '../../core/identity.ts';
import type { OidcAuthenticator } from './oidc.ts';
import type { TokenReviewAuthenticator } from './token-review.ts';

export interface AuthenticatorOptions {
  readonly oidc: readonly OidcAuthenticator[];
  readonly tokenReview?: TokenReviewAuthenticator;
}

export interface Authenticator {
  /** Throws AuthenticationError; the caller's groups always include `system:authenticated`. */
  authenticate(token: string): Promise<AuthenticatedCaller>;
}

/**
 * The token's `iss`, read without trusting it: it only picks who verifies the token. Read by hand
 * (the payload segment, base64url, JSON) rather than with a full JWT decode: it runs per request,
 * and the issuer's verifier checks everything else.
 */
function unverifiedIssuer(token: string): string | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
    const iss = typeof payload === 'object' && payload !== null ? (payload as { iss?: unknown }).iss : undefined;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const byIssuer = new Map<string, OidcAuthenticator>();
  for (const oidc of options.oidc) {
    if (byIssuer.has(oidc.issuerURL)) throw new TypeError(`OIDC issuer ${oidc.issuerURL} is configured twice`);
    byIssuer.set(oidc.issuerURL, oidc);
  }
  const tokenReview = options.tokenReview;

  const route = (token: string): Promise<AuthenticatedCaller> => {
    const issuer = unverifiedIssuer(token);
    const oidc = issuer === undefined ? undefined : byIssuer.get(issuer);
    if (oidc !== undefined) return oidc.authenticate(token);
    if (tokenReview !== undefined) return tokenReview.authenticate(token);
    return Promise.reject(new AuthenticationError('invalid_token', issuer === undefined
      ? 'the token is not a JWT from a configured issuer, and TokenReview is disabled'
      : 'the token names an issuer that is not configured, and TokenReview is disabled'));
  };

  return {
    async authenticate(token) {
      if (token === '') throw new AuthenticationError('missing_token', 'no bearer token');
      const caller = await route(token);
      return { ...caller, user: { ...caller.user, groups: withAuthenticatedGroup(caller.user.groups) } };
    },
  };
}
