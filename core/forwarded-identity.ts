// The names a gateway forwards an identity under. `Caller` forwards the caller's own names, so the
// RBAC that lets a request through the gateway also lets the same caller act straight at the API
// server (a ServiceAccount with its automounted token, above all). `GatewayOnly` forwards every
// username, group and uid behind a prefix that only this gateway gives: the API server never
// authenticates such a name by itself, so RBAC bound to it is honoured only for requests that came
// through the gateway. Policies still match the true identity; only what the API server sees moves.
import type { ImpersonationTarget, UserInfo } from './identity.ts';

export type ForwardAs = 'Caller' | 'GatewayOnly';

export interface IdentityForwarding {
  readonly forwardAs: ForwardAs;
  /** Put before every forwarded username, group and uid in mode GatewayOnly. */
  readonly prefix: string;
}

/**
 * `airlock:<namespace>:<name>:`. Both parts are DNS labels (no colon), so the prefix says exactly
 * which gateway a name belongs to and no gateway's prefix starts another's.
 */
export function defaultGatewayOnlyPrefix(gateway: { readonly namespace: string; readonly name: string }): string {
  return `airlock:${gateway.namespace}:${gateway.name}:`;
}

/** Why a prefix would not keep names apart, or undefined. */
export function gatewayOnlyPrefixProblem(prefix: string): string | undefined {
  if (!prefix.endsWith(':') || prefix.length < 2) return 'must be non-empty and end with ":" (e.g. "airlock:team-a:ci:")';
  // The API server gives system: names itself (ServiceAccounts, nodes, its own groups).
  if (prefix.startsWith('system:')) return 'must not start with "system:", a namespace the API server names users and groups in itself';
  if (!/^[\u0021-\u007e]+$/.test(prefix)) return 'must be printable ASCII without spaces';
  return undefined;
}

function prefixed(identity: { readonly uid?: string; readonly groups: readonly string[] }, prefix: string): { uid?: string; groups: string[] } {
  return {
    ...(identity.uid === undefined || identity.uid === '' ? {} : { uid: `${prefix}${identity.uid}` }),
    groups: identity.groups.map((g) => `${prefix}${g}`),
  };
}

/**
 * The identity the API server is asked to act as. Extras keep their keys and values: the keys are
 * the fixed set the gateway may impersonate (forwarded-extras.ts) and carry no authority in RBAC.
 */
export function forwardedIdentity(user: UserInfo, forwarding: IdentityForwarding): UserInfo {
  if (forwarding.forwardAs === 'Caller') return user;
  return { username: `${forwarding.prefix}${user.username}`, ...prefixed(user, forwarding.prefix), extra: user.extra };
}

/** An impersonation request as the API server would see it from the gateway-only caller. */
export function forwardedTarget(target: ImpersonationTarget, forwarding: IdentityForwarding): ImpersonationTarget {
  if (forwarding.forwardAs === 'Caller') return target;
  return { user: `${forwarding.prefix}${target.user}`, ...prefixed(target, forwarding.prefix), extra: target.extra };
}

/**
 * Why an identity uses a name only the gateway may give, or undefined. Forwarding would keep such a
 * name apart anyway (it gains a second prefix), but a caller the cluster or an issuer already names
 * inside the prefix shows that the prefix is not the gateway's alone: refusing says so at once
 * instead of leaving a direct path to the same RBAC.
 */
export function reservedNameProblem(identity: { readonly username: string; readonly uid?: string; readonly groups: readonly string[] }, forwarding: IdentityForwarding): string | undefined {
  if (forwarding.forwardAs === 'Caller') return undefined;
  const { prefix } = forwarding;
  const reserved = `names starting with "${prefix}" are reserved for identities this gateway forwards (identity.forwardAs GatewayOnly)`;
  if (identity.username.startsWith(prefix)) return `the username ${JSON.stringify(identity.username)} is refused: ${reserved}`;
  if (identity.uid?.startsWith(prefix) === true) return `the uid is refused: ${reserved}`;
  const group = identity.groups.find((g) => g.startsWith(prefix));
  if (group !== undefined) return `the group ${JSON.stringify(group)} is refused: ${reserved}`;
  return undefined;
}
