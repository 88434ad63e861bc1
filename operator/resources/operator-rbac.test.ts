// config/rbac is YAML (what kustomize and Argo CD apply); these tests hold it to the code: the
// operator must hold every permission it grants a gateway (RBAC escalation prevention), every
// kind the builders produce, and nothing broader.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GATEWAY_CLUSTER_RULES, type PolicyRule } from './gateway-rbac.ts';

const RBAC_DIR = new URL('../../config/rbac/', import.meta.url);

interface Role {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules: PolicyRule[];
}

const read = (file: string): Role => parse(readFileSync(new URL(file, RBAC_DIR), 'utf8')) as Role;
const operatorRole = read('role.yaml');

/** Whether some rule grants verb on group/resource (no resourceNames restriction). */
function grants(rules: readonly PolicyRule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => (r.resourceNames ?? []).length === 0
    && (r.apiGroups.includes(group) || r.apiGroups.includes('*'))
    && (r.resources.includes(resource) || r.resources.includes('*'))
    && (r.verbs.includes(verb) || r.verbs.includes('*')));
}

const gatewayPermissions = GATEWAY_CLUSTER_RULES.flatMap((rule) => rule.apiGroups.flatMap((group) =>
  rule.resources.flatMap((resource) => rule.verbs.map((verb) => [group, resource, verb] as const))));

const CRUD = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const owned: [kind: string, group: string, resource: string][] = [
  ['ServiceAccount', '', 'serviceaccounts'],
  ['ConfigMap', '', 'configmaps'],
  ['Secret', '', 'secrets'],
  ['Service', '', 'services'],
  ['Deployment', 'apps', 'deployments'],
  ['PodDisruptionBudget', 'policy', 'poddisruptionbudgets'],
  ['ClusterRole', 'rbac.authorization.k8s.io', 'clusterroles'],
  ['ClusterRoleBinding', 'rbac.authorization.k8s.io', 'clusterrolebindings'],
  ['Role', 'rbac.authorization.k8s.io', 'roles'],
  ['RoleBinding', 'rbac.authorization.k8s.io', 'rolebindings'],
];

describe('the operator ClusterRole (config/rbac/role.yaml)', () => {
  it('is the ClusterRole airlock-operator', () => {
    expect(operatorRole).toMatchObject({ kind: 'ClusterRole', metadata: { name: 'airlock-operator' } });
  });

  it.each(gatewayPermissions)('holds the gateway permission %s %s %s, so it may grant it', (group, resource, verb) => {
    expect(grants(operatorRole.rules, group, resource, verb)).toBe(true);
  });

  it.each(owned.flatMap(([kind, group, resource]) => CRUD.map((verb) => [kind, group, resource, verb] as const)))(
    'may manage the %s objects it owns (%s %s %s)',
    (_kind, group, resource, verb) => {
      expect(grants(operatorRole.rules, group, resource, verb)).toBe(true);
    },
  );

  it.each([
    ['mint gateway tokens', '', 'serviceaccounts/token', 'create'],
    ['record Events', '', 'events', 'create'],
    ['update its Events', 'events.k8s.io', 'events', 'patch'],
    ['write AccessGateway status', 'airlock.dev', 'accessgateways/status', 'patch'],
    ['write AccessPolicy status', 'airlock.dev', 'accesspolicies/status', 'patch'],
    ['write ApprovalRequest status', 'airlock.dev', 'approvalrequests/status', 'update'],
    ['clean up ApprovalRequests', 'airlock.dev', 'approvalrequests', 'delete'],
    ['set blockOwnerDeletion on children', 'airlock.dev', 'accessgateways/finalizers', 'update'],
  ])('lets the operator %s', (_what, group, resource, verb) => {
    expect(grants(operatorRole.rules, group, resource, verb)).toBe(true);
  });

  it.each([
    ['write an AccessGateway spec', 'airlock.dev', 'accessgateways', 'update'],
    ['patch an AccessGateway', 'airlock.dev', 'accessgateways', 'patch'],
    ['write an AccessPolicy spec', 'airlock.dev', 'accesspolicies', 'patch'],
    ['escalate roles', 'rbac.authorization.k8s.io', 'clusterroles', 'escalate'],
    ['bind roles it does not hold', 'rbac.authorization.k8s.io', 'clusterroles', 'bind'],
    ['exec into pods', '', 'pods/exec', 'create'],
    ['read nodes', '', 'nodes', 'get'],
  ])('does not let the operator %s', (_what, group, resource, verb) => {
    expect(grants(operatorRole.rules, group, resource, verb)).toBe(false);
  });

  it('uses no wildcard group, verb or resource', () => {
    for (const rule of operatorRole.rules) {
      expect(rule.apiGroups).not.toContain('*');
      expect(rule.verbs).not.toContain('*');
      expect(rule.resources.filter((r) => r.includes('*'))).toEqual([]);
    }
  });
});

describe('the other roles in config/rbac', () => {
  it('gives leader election only Leases in airlock-system', () => {
    expect(read('leader_election_role.yaml')).toMatchObject({
      kind: 'Role',
      metadata: { namespace: 'airlock-system' },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'] }],
    });
  });

  it.each([
    ['accessgateway_viewer_role.yaml', 'view'],
    ['accesspolicy_viewer_role.yaml', 'view'],
    ['approvalrequest_viewer_role.yaml', 'view'],
    ['accesspolicy_editor_role.yaml', 'edit'],
    ['approvalrequest_editor_role.yaml', 'edit'],
    ['accessgateway_editor_role.yaml', undefined],
    ['approvalrequest_approver_role.yaml', undefined],
  ])('%s aggregates into the built-in role: %s', (file, into) => {
    const labels = read(file).metadata.labels ?? {};
    const aggregated = Object.keys(labels).filter((k) => k.startsWith('rbac.authorization.k8s.io/aggregate-to-'));
    expect(aggregated).toEqual(into === undefined ? [] : [`rbac.authorization.k8s.io/aggregate-to-${into}`]);
  });

  it.each([
    ['accesspolicy_editor_role.yaml', 'accesspolicies/status'],
    ['approvalrequest_editor_role.yaml', 'approvalrequests/status'],
    ['accessgateway_editor_role.yaml', 'accessgateways/status'],
  ])('%s leaves %s to the operator', (file, resource) => {
    const rules = read(file).rules;
    expect(grants(rules, 'airlock.dev', resource, 'update') || grants(rules, 'airlock.dev', resource, 'patch')).toBe(false);
  });

  it('lists every file of config/rbac in its kustomization', () => {
    const listed = (parse(readFileSync(new URL('kustomization.yaml', RBAC_DIR), 'utf8')) as { resources: string[] }).resources;
    const files = readdirSync(RBAC_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...listed].sort()).toEqual(files.sort());
  });
});
