// Who a request comes from, as the authentication stage established it.

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
