// Resolves who a request really acts as. A caller may ask to impersonate (kubectl --as,
// --as-group, --as-uid, agents acting for someone): each requested attribute is checked with a
// SubjectAccessReview made as the caller, exactly as kube-apiserver's impersonation filter checks
// it, and both identities are kept for policy and audit.
import type { UserInfo } from '../../core/identity.ts';

export interface ImpersonationTarget {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export interface ResourceAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name: string;
  readonly namespace?: string;
}

/** Answers whether `user` may do `attributes` (a SubjectAccessReview in production). */
export type AccessReviewer = (user: UserInfo, attributes: ResourceAttributes) => Promise<boolean>;

export class ImpersonationForbiddenError extends Error {
  readonly code = 'impersonation_forbidden';
  readonly refused: readonly ResourceAttributes[];
  readonly caller: string;
  constructor(caller: string, refused: readonly ResourceAttributes[]) {
    const first = refused[0];
    const what = first === undefined ? 'impersonation' : describe(first);
    super(`${what} is forbidden: User "${caller}" cannot impersonate resource "${first?.resource ?? ''}"`
      + ` in API group "${first?.group ?? ''}"${first?.namespace === undefined ? ' at the cluster scope' : ` in the namespace "${first.namespace}"`}`
      + (refused.length > 1 ? ` (and ${refused.length - 1} more refused impersonation attribute(s))` : ''));
    this.name = 'ImpersonationForbiddenError';
    this.caller = caller;
    this.refused = refused;
  }
}

function describe(a: ResourceAttributes): string {
  const resource = a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`;
  return `${resource} "${a.name}"`;
}

const SA_PREFIX = 'system:serviceaccount:';
/** DNS-1123 label: a namespace name (apimachinery ValidateNamespaceName). */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: a ServiceAccount name (ValidateServiceAccountName). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The namespace and name of a ServiceAccount username, as the API server splits it
 * (serviceaccount.SplitUsername): both must be valid names, or the username is an ordinary user
 * and is impersonated (and matched by policy) as one.
 */
export function serviceAccountOf(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace = '', name = ''] = parts;
  if (namespace.length > 63 || !DNS_LABEL.test(namespace) || name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

/** The attributes kube-apiserver checks for one impersonation request (its impersonation filter). */
export function impersonationChecks(target: ImpersonationTarget): ResourceAttributes[] {
  const checks: ResourceAttributes[] = [];
  const sa = serviceAccountOf(target.user);
  if (sa !== undefined) {
    checks.push({ verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name });
  } else {
    checks.push({ verb: 'impersonate', group: '', resource: 'users', name: target.user });
  }
  for (const group of target.groups) checks.push({ verb: 'impersonate', group: '', resource: 'groups', name: group });
  for (const [key, values] of Object.entries(target.extra)) {
    for (const value of values) {
      checks.push({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value });
    }
  }
  if (target.uid !== undefined) checks.push({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: target.uid });
  return checks;
}

/**
 * The identity the API server would derive from the same impersonation headers (its impersonation
 * filter): a ServiceAccount given no groups gets its ServiceAccount groups; system:anonymous gets
 * system:unauthenticated, anyone else system:authenticated, unless either is already there.
 */
export function impersonatedUser(target: ImpersonationTarget): UserInfo {
  const groups = [...target.groups];
  const sa = serviceAccountOf(target.user);
  if (sa !== undefined && target.groups.length === 0) {
    groups.push('system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`);
  }
  if (target.user === 'system:anonymous') {
    if (!groups.includes('system:unauthenticated')) groups.push('system:unauthenticated');
  } else if (!groups.includes('system:authenticated') && !groups.includes('system:unauthenticated')) {
    groups.push('system:authenticated');
  }
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(target.extra)) extra[k] = [...v];
  return { username: target.user, ...(target.uid === undefined ? {} : { uid: target.uid }), groups, extra };
}

export async function resolveEffectiveIdentity(
  caller: UserInfo,
  target: ImpersonationTarget | undefined,
  review: AccessReviewer,
): Promise<UserInfo> {
  if (target === undefined) return caller;
  const checks = impersonationChecks(target);
  const answers = await Promise.all(checks.map(async (c) => ({ c, allowed: await review(caller, c) })));
  const refused = answers.filter((a) => !a.allowed).map((a) => a.c);
  if (refused.length > 0) throw new ImpersonationForbiddenError(caller.username, refused);
  return impersonatedUser(target);
}

interface SubjectAccessReviewStatus { status?: { allowed?: boolean; denied?: boolean } }

/** An AccessReviewer backed by SubjectAccessReview, with a short cache of answers. */
export function subjectAccessReviewer(
  post: (path: string, body: unknown) => Promise<SubjectAccessReviewStatus>,
  options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
): AccessReviewer {
  const ttl = options.ttlMs ?? 5_000;
  const max = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { allowed: boolean; until: number }>();
  return async (user, attributes) => {
    const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, attributes]);
    const hit = cache.get(key);
    if (hit !== undefined && hit.until > now()) return hit.allowed;
    const answer = await post('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.username,
        ...(user.uid === undefined ? {} : { uid: user.uid }),
        groups: user.groups,
        extra: user.extra,
        resourceAttributes: attributes,
      },
    });
    const allowed = answer.status?.allowed === true;
    if (cache.size >= max) cache.delete(cache.keys().next().value ?? '');
    cache.set(key, { allowed, until: now() + ttl });
    return allowed;
  };
}
