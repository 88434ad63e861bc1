// The paths around a gateway: for the subjects of the AccessPolicies a gateway enforces, every way
// they could act without it, each with the fix. Pure over its sources (the cluster reads and
// SubjectAccessReviews are passed in), so the plugin runs it as the person asking and tests pass
// small fakes. What counts as a path:
// - a ServiceAccount whose token the API server accepts from inside a pod: automount left on, on
//   the account or on a pod that uses it; a legacy token Secret (type service-account-token);
// - RBAC that lets a governed identity do, under its own name, what its Allow rules let it do
//   through the gateway (a SubjectAccessReview per verb, resource and namespace the rules name);
// - a gateway credential with rights beyond impersonation and reviews (read Secrets, create Pods).
import type { AccessPolicy } from '../../crds/types.gen.ts';

export type BypassKind = 'AutomountedToken' | 'LegacyTokenSecret' | 'DirectRbac' | 'GatewayCredential';

export interface BypassFinding {
  readonly kind: BypassKind;
  /** The identity the path belongs to, as the API server names it. */
  readonly subject: string;
  readonly detail: string;
  /** The command or change that closes the path. */
  readonly fix: string;
}

export interface AccessAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
}

export interface BypassSources {
  /** undefined: no such ServiceAccount. */
  serviceAccount(namespace: string, name: string): Promise<{ readonly automountServiceAccountToken?: boolean } | undefined>;
  pods(namespace: string): Promise<readonly { readonly name: string; readonly serviceAccountName: string; readonly automountServiceAccountToken?: boolean }[]>;
  /** Secrets of type kubernetes.io/service-account-token (metadata only), with the account they belong to. */
  tokenSecrets(namespace: string): Promise<readonly { readonly name: string; readonly serviceAccountName: string }[]>;
  /** A SubjectAccessReview. */
  allowed(who: { readonly user?: string; readonly groups: readonly string[] }, attributes: AccessAttributes): Promise<boolean>;
}

export interface GatewayUnderReview {
  readonly namespace: string;
  readonly name: string;
  /** The gateway's own ServiceAccount (operator/resources/gateway-rbac.ts). */
  readonly serviceAccount: string;
  /** spec.authentication.serviceAccountTokens.audiences: named in the fix for automounted tokens. */
  readonly audiences: readonly string[];
}

/** Verbs tried for a rule that allows every verb: the ones a direct path would be used for. */
const EVERY_VERB = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
/** Representatives tried for `*` resources: reads of values and a way to run code. */
const ANY_RESOURCE: readonly [string, string][] = [['', 'secrets'], ['', 'configmaps'], ['', 'pods'], ['apps', 'deployments']];
/** SubjectAccessReviews per subject, at most: enough to find a binding, bounded for large rules. */
const MAX_CHECKS = 48;

/** What the gateway credential must never be able to do as itself. */
const GATEWAY_MUST_NOT: readonly AccessAttributes[] = [
  { verb: 'get', group: '', resource: 'secrets', namespace: '' },
  { verb: 'list', group: '', resource: 'secrets', namespace: '' },
  { verb: 'create', group: '', resource: 'pods', namespace: '' },
  { verb: 'create', group: 'apps', resource: 'deployments', namespace: '' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', namespace: '' },
];

type Rule = AccessPolicy['spec']['rules'][number];
type Subject = AccessPolicy['spec']['subjects'][number];

/** The (verb, group, resource, namespace) combinations an Allow rule lets through the gateway. */
/** (group, resource) pairs a rule names; `*` becomes representatives, a subresource its resource. */
function ruleResources(match: NonNullable<Rule['match']>): [string, string][] {
  const groups = match.apiGroups ?? ['*'];
  return (match.resources ?? ['*']).flatMap((r): [string, string][] => {
    if (r === '*') return [...ANY_RESOURCE];
    const resource = r.split('/')[0] ?? r;
    return groups.includes('*') ? [['', resource]] : groups.map((g): [string, string] => [g, resource]);
  });
}

export function allowedAttributes(rules: readonly Rule[]): AccessAttributes[] {
  const out = new Map<string, AccessAttributes>();
  for (const rule of rules) {
    const match = rule.match ?? {};
    if (rule.action !== 'Allow' || (match.nonResourceURLs ?? []).length > 0) continue;
    const verbs = (match.verbs ?? ['*']).flatMap((v) => (v === '*' ? EVERY_VERB : [v]));
    const resources = ruleResources(match);
    const namespaces = match.namespaces !== undefined && match.namespaces.length > 0 ? match.namespaces : [''];
    for (const verb of verbs) for (const [group, resource] of resources) for (const namespace of namespaces) {
      const attributes = { verb, group, resource, namespace };
      out.set(JSON.stringify(attributes), attributes);
    }
  }
  return [...out.values()];
}

interface Governed {
  readonly label: string;
  readonly who: { readonly user?: string; readonly groups: readonly string[] };
  readonly serviceAccount?: { readonly namespace: string; readonly name: string };
  readonly attributes: AccessAttributes[];
}

function governedOf(subject: Subject): Omit<Governed, 'attributes'> | undefined {
  if (subject.serviceAccount !== undefined) {
    const { namespace, name } = subject.serviceAccount;
    const user = `system:serviceaccount:${namespace}:${name}`;
    return { label: user, who: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] }, serviceAccount: { namespace, name } };
  }
  if (subject.user !== undefined) return { label: subject.user.name, who: { user: subject.user.name, groups: ['system:authenticated'] } };
  if (subject.group !== undefined) return { label: `group ${subject.group.name}`, who: { groups: [subject.group.name] } };
  // A claim names no identity the API server could authenticate by itself.
  return undefined;
}

/** Every governed identity once, with everything its policies' Allow rules let through. */
export function governedIdentities(policies: readonly AccessPolicy[]): Governed[] {
  const byLabel = new Map<string, Governed>();
  for (const policy of policies) {
    const attributes = allowedAttributes(policy.spec.rules);
    for (const subject of policy.spec.subjects) {
      const governed = governedOf(subject);
      if (governed === undefined) continue;
      const known = byLabel.get(governed.label);
      byLabel.set(governed.label, { ...governed, attributes: [...(known?.attributes ?? []), ...attributes] });
    }
  }
  return [...byLabel.values()];
}

function describeAttributes(a: AccessAttributes): string {
  return `${a.verb} ${a.group === '' ? a.resource : `${a.resource}.${a.group}`}${a.namespace === '' ? ' (cluster-wide)' : ` in ${a.namespace}`}`;
}

async function tokenPaths(sa: { namespace: string; name: string }, gateway: GatewayUnderReview, sources: BypassSources): Promise<BypassFinding[]> {
  const subject = `system:serviceaccount:${sa.namespace}:${sa.name}`;
  const findings: BypassFinding[] = [];
  const audience = gateway.audiences[0] ?? `airlock-${gateway.name}`;
  const account = await sources.serviceAccount(sa.namespace, sa.name);
  if (account !== undefined && account.automountServiceAccountToken !== false) {
    findings.push({
      kind: 'AutomountedToken', subject, detail: `ServiceAccount ${sa.namespace}/${sa.name} mounts an API server token into its pods (automountServiceAccountToken is not false)`,
      fix: `kubectl patch serviceaccount ${sa.name} -n ${sa.namespace} -p '{"automountServiceAccountToken":false}'; give its pods a projected token with audience ${audience}`,
    });
  }
  for (const pod of await sources.pods(sa.namespace)) {
    if (pod.serviceAccountName !== sa.name || pod.automountServiceAccountToken !== true) continue;
    findings.push({
      kind: 'AutomountedToken', subject, detail: `pod ${sa.namespace}/${pod.name} mounts an API server token (automountServiceAccountToken: true overrides the account)`,
      fix: `set automountServiceAccountToken: false in the spec of pod ${sa.namespace}/${pod.name} (its Deployment or Job), with a projected token of audience ${audience}`,
    });
  }
  for (const secret of await sources.tokenSecrets(sa.namespace)) {
    if (secret.serviceAccountName !== sa.name) continue;
    findings.push({
      kind: 'LegacyTokenSecret', subject, detail: `Secret ${sa.namespace}/${secret.name} holds a non-expiring token the API server accepts`,
      fix: `kubectl delete secret ${secret.name} -n ${sa.namespace}`,
    });
  }
  return findings;
}

async function rbacPaths(governed: Governed, gateway: GatewayUnderReview, sources: BypassSources): Promise<BypassFinding[]> {
  const granted: AccessAttributes[] = [];
  for (const attributes of governed.attributes.slice(0, MAX_CHECKS)) {
    if (await sources.allowed(governed.who, attributes)) granted.push(attributes);
  }
  if (granted.length === 0) return [];
  const kind = governed.who.user === undefined ? '--group' : governed.serviceAccount === undefined ? '--user' : '--serviceaccount';
  const name = governed.serviceAccount === undefined ? governed.who.user ?? governed.who.groups[0] ?? '' : `${governed.serviceAccount.namespace}:${governed.serviceAccount.name}`;
  return [{
    kind: 'DirectRbac', subject: governed.label,
    detail: `RBAC under its own name allows ${granted.slice(0, 3).map(describeAttributes).join(', ')}${granted.length > 3 ? ` and ${granted.length - 3} more` : ''} without the gateway`,
    fix: `bind its roles to the gateway-only name instead (kubectl airlock rolebinding ${kind} ${name} --gateway ${gateway.namespace}/${gateway.name} …), then remove the bindings to ${governed.label} (kubectl get rolebindings,clusterrolebindings -A -o wide | grep ${JSON.stringify(name.split(':').at(-1) ?? name)})`,
  }];
}

async function credentialPaths(gateway: GatewayUnderReview, sources: BypassSources): Promise<BypassFinding[]> {
  const user = `system:serviceaccount:${gateway.namespace}:${gateway.serviceAccount}`;
  const who = { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${gateway.namespace}`, 'system:authenticated'] };
  const granted: AccessAttributes[] = [];
  for (const attributes of GATEWAY_MUST_NOT) if (await sources.allowed(who, attributes)) granted.push(attributes);
  if (granted.length === 0) return [];
  return [{
    kind: 'GatewayCredential', subject: user,
    detail: `the gateway's own credential may ${granted.map(describeAttributes).join(', ')}: anyone holding its token may too`,
    fix: `remove the bindings that give ${user} more than its airlock-gateway-${gateway.namespace}-${gateway.name} ClusterRole (kubectl get rolebindings,clusterrolebindings -A -o wide | grep ${gateway.serviceAccount})`,
  }];
}

/** Every path around `gateway` for the subjects of `policies` (the ones it enforces). */
export async function findBypass(gateway: GatewayUnderReview, policies: readonly AccessPolicy[], sources: BypassSources): Promise<BypassFinding[]> {
  const findings: BypassFinding[] = [];
  for (const governed of governedIdentities(policies)) {
    if (governed.serviceAccount !== undefined) findings.push(...await tokenPaths(governed.serviceAccount, gateway, sources));
    findings.push(...await rbacPaths(governed, gateway, sources));
  }
  findings.push(...await credentialPaths(gateway, sources));
  return findings;
}
