// The condition vocabulary of AccessGateway status, shared by the reconciler and the Argo CD health
// check (config/argocd/health/airlock.dev/AccessGateway/health.lua, which a test keeps in step).
export const GATEWAY_CONDITIONS = {
  ready: 'Ready',
  credentialsReady: 'CredentialsReady',
  policiesReady: 'PoliciesReady',
  degraded: 'Degraded',
} as const;

/**
 * Ready=False reasons that no retry will fix: a person must change something (the spec, a
 * Secret, the operator's RBAC). Argo CD shows them as Degraded; any other Ready=False reason is
 * Progressing (a rollout, pods starting, a token being minted).
 */
export const GATEWAY_TERMINAL_REASONS = [
  'InvalidSpec', // the spec fails a check the schema cannot make (e.g. a name too long for its Service)
  'ConfigRejected', // the rendered config fails the gateway's own config parser
  'SecretInvalid', // a referenced Secret (TLS, upstream CA, webhook CA) lacks its keys or holds garbage
  'PermissionDenied', // the API server refused the operator (e.g. TokenRequest); fix the operator's RBAC
] as const;
