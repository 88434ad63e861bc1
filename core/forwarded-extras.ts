// The user extras the gateway sends upstream as Impersonate-Extra-*. The API server checks each key
// as `impersonate` on `userextras/<key>`, and RBAC matches that resource exactly (no `userextras/*`
// wildcard exists), so the gateway's ClusterRole names every key here and the gateway drops any
// other extra a caller's credential carries.

/** Added to every forwarded request, so the API server's audit log joins the gateway's. */
export const EXTRA_AUDIT_ID = 'airlock.dev/audit-id';
export const EXTRA_GATEWAY = 'airlock.dev/gateway';
/** The authenticated caller, when it impersonates someone else. */
export const EXTRA_CALLER = 'airlock.dev/caller';

/** Extras of pod-bound ServiceAccount tokens (TokenReview), kept so RBAC and audit still see them. */
export const SERVICE_ACCOUNT_EXTRAS = [
  'authentication.kubernetes.io/credential-id',
  'authentication.kubernetes.io/node-name',
  'authentication.kubernetes.io/node-uid',
  'authentication.kubernetes.io/pod-name',
  'authentication.kubernetes.io/pod-uid',
] as const;

export const FORWARDED_EXTRAS: readonly string[] = [EXTRA_AUDIT_ID, EXTRA_GATEWAY, EXTRA_CALLER, ...SERVICE_ACCOUNT_EXTRAS];

/** The caller's extras the gateway may forward; the rest would be refused upstream. */
export function forwardableExtras(extra: Readonly<Record<string, readonly string[]>>): Record<string, readonly string[]> {
  return Object.fromEntries(Object.entries(extra).filter(([key]) => FORWARDED_EXTRAS.includes(key)));
}
