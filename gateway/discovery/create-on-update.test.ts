import { describe, expect, it } from 'vitest';
import { isBuiltInGroup, putCreates } from './create-on-update.ts';

const put = (apiGroup: string, resource: string, subresource = ''): { apiGroup: string; resource: string; subresource: string } => ({ apiGroup, resource, subresource });

describe('putCreates', () => {
  it.each([
    ['Roles', put('rbac.authorization.k8s.io', 'roles'), undefined, 'creates'],
    ['ClusterRoleBindings', put('rbac.authorization.k8s.io', 'clusterrolebindings'), undefined, 'creates'],
    ['Services, also through status', put('', 'services', 'status'), undefined, 'creates'],
    ['Events of both groups', put('events.k8s.io', 'events'), undefined, 'creates'],
    ['RuntimeClasses', put('node.k8s.io', 'runtimeclasses'), undefined, 'creates'],
    ['ConfigMaps', put('', 'configmaps'), undefined, 'no'],
    ['Deployments and their scale', put('apps', 'deployments', 'scale'), undefined, 'no'],
    ['a Service\'s proxy', put('', 'services', 'proxy'), undefined, 'no'],
    ['a custom resource', put('widgets.example', 'widgets'), true, 'no'],
    ['an aggregated API', put('metrics.example', 'samples'), false, 'unknown'],
    ['a group discovery does not know', put('new.example', 'things'), undefined, 'unknown'],
    ['a built-in group\'s resource the tables do not know', put('apps', 'newkinds'), true, 'unknown'],
  ] as const)('%s: %s', (...[, target, local, expected]) => {
    expect(putCreates(target, () => local)).toBe(expected);
  });

  it('knows the groups kube-apiserver serves itself', () => {
    expect(['', 'apps', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io'].every(isBuiltInGroup)).toBe(true);
    expect(isBuiltInGroup('widgets.example')).toBe(false);
  });
});
