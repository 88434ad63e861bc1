// The gateway's RBAC, in one place: what a gateway needs and nothing more. It impersonates the
// identities it forwards for (RBAC then judges them), reviews tokens and access, reads the
// AccessPolicies it enforces and which APIs are aggregated, and manages its ApprovalRequests.
import { FORWARDED_EXTRAS } from '../../core/forwarded-extras.ts';
import { GATEWAY_APP_NAME, LABELS, MANAGED_BY, PART_OF } from './labels.ts';

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export const GATEWAY_CLUSTER_RULES: readonly PolicyRule[] = [
  { apiGroups: [''], resources: ['users', 'groups', 'serviceaccounts'], verbs: ['impersonate'] },
  // RBAC matches `userextras/<key>` exactly, so each forwarded extra key is named.
  { apiGroups: ['authentication.k8s.io'], resources: [...FORWARDED_EXTRAS.map((k) => `userextras/${k}`), 'uids'], verbs: ['impersonate'] },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
  // Which API groups an aggregated API server serves: whether a PUT there can create is unknowable.
  { apiGroups: ['apiregistration.k8s.io'], resources: ['apiservices'], verbs: ['list'] },
  { apiGroups: ['airlock.dev'], resources: ['accesspolicies'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['airlock.dev'], resources: ['approvalrequests'], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: ['airlock.dev'], resources: ['approvalrequests/status'], verbs: ['get', 'patch', 'update'] },
];

export interface GatewayIdentity {
  readonly name: string;
  readonly namespace: string;
}

/** The standard labels (labels.ts) from a name alone: cluster-scoped RBAC has no gateway object. */
function rbacLabels(gateway: GatewayIdentity): Record<string, string> {
  return { [LABELS.name]: GATEWAY_APP_NAME, [LABELS.instance]: gateway.name, [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: PART_OF };
}

export function gatewayServiceAccountName(gateway: GatewayIdentity): string {
  return `airlock-gateway-${gateway.name}`;
}

export function buildGatewayClusterRole(gateway: GatewayIdentity): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: {
      name: `airlock-gateway-${gateway.namespace}-${gateway.name}`,
      labels: rbacLabels(gateway),
    },
    rules: GATEWAY_CLUSTER_RULES,
  };
}

export function buildGatewayClusterRoleBinding(gateway: GatewayIdentity): Record<string, unknown> {
  const name = `airlock-gateway-${gateway.namespace}-${gateway.name}`;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: rbacLabels(gateway) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name: gatewayServiceAccountName(gateway), namespace: gateway.namespace }],
  };
}
