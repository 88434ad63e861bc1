import { describe, expect, it } from 'vitest';
import type { ApiCatalog, ResourceScope } from '../discovery/api-catalog.ts';
import { requestAttributes } from './request-attributes.ts';
import { RequestInfoError, resolveRequestInfo, type RequestInfo } from './request-info.ts';

/** Discovery as a small table: nodes, namespaces and cluster roles are cluster-scoped; the CRD group is served locally. */
function catalog(): ApiCatalog & { asked: string[] } {
  const scopes = new Map<string, ResourceScope>([
    ['/configmaps', 'Namespaced'], ['/nodes', 'Cluster'], ['/namespaces', 'Cluster'], ['rbac.authorization.k8s.io/clusterroles', 'Cluster'],
    ['widgets.example/widgets', 'Namespaced'], ['metrics.example/samples', 'Namespaced'],
  ]);
  const local = new Map([['widgets.example', true], ['metrics.example', false]]);
  const asked: string[] = [];
  return {
    asked,
    scope: (group, resource) => { asked.push(`scope ${group}/${resource}`); return scopes.get(`${group}/${resource}`); },
    servedLocally: (group) => { asked.push(`local ${group}`); return local.get(group); },
  };
}

function info(method: string, url: string): RequestInfo {
  const resolved = resolveRequestInfo(method, url);
  if (resolved instanceof RequestInfoError) throw resolved;
  return resolved;
}

describe('requestAttributes: the verbs the API server also authorizes', () => {
  it.each([
    ['a server-side apply (kubectl apply --server-side)', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/apply-patch+yaml', 'a server-side apply creates'],
    ['a server-side apply with parameters', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/apply-patch+yaml; charset=utf-8', 'a server-side apply creates'],
    ['a CBOR server-side apply', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/apply-patch+cbor', 'a server-side apply creates'],
    ['a future apply-patch form', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/apply-patch+json', 'a server-side apply creates'],
    ['a PATCH without a Content-Type (judged as an apply: fail closed)', 'PATCH', '/api/v1/namespaces/a/configmaps/x', undefined, 'is not a JSON, merge or strategic merge patch'],
    ['a merge patch spelled in capitals (the API server compares exactly)', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'Application/Merge-Patch+JSON', 'is not a JSON, merge or strategic merge patch'],
    ['a merge patch with a space before its parameters', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/merge-patch+json ;charset=utf-8', 'is not a JSON, merge or strategic merge patch'],
    ['a PUT to a Role', 'PUT', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles/admin', 'application/json', 'a PUT to roles.rbac.authorization.k8s.io creates'],
    ['a PUT to a ClusterRoleBinding', 'PUT', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/admin', 'application/json', 'a PUT to clusterrolebindings.rbac.authorization.k8s.io creates'],
    ['a PUT to a Service\'s status (it can create the Service)', 'PUT', '/api/v1/namespaces/a/services/web/status', 'application/json', 'a PUT to services creates'],
    ['a PUT to a Lease', 'PUT', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l', 'application/json', 'a PUT to leases.coordination.k8s.io creates'],
    ['a PUT to an aggregated API (unknowable: fail closed)', 'PUT', '/apis/metrics.example/v1/namespaces/a/samples/s', 'application/json', 'cannot tell whether a PUT to samples.metrics.example'],
    ['a PUT to an API discovery does not know yet (fail closed)', 'PUT', '/apis/new.example/v1/namespaces/a/things/t', 'application/json', 'cannot tell whether'],
    ['a PUT to a built-in group\'s resource newer than the table (fail closed)', 'PUT', '/apis/apps/v1/namespaces/a/newkinds/n', 'application/json', 'cannot tell whether'],
  ] as const)('%s is also a create', (...[, method, url, contentType, why]) => {
    const attributes = requestAttributes(info(method, url), contentType, catalog());
    expect(attributes.alsoVerbs).toEqual([{ verb: 'create', why: expect.stringContaining(why) as unknown }]);
  });

  it.each([
    ['a JSON patch', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/json-patch+json'],
    ['a merge patch', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/merge-patch+json'],
    ['a strategic merge patch with a charset', 'PATCH', '/api/v1/namespaces/a/configmaps/x', 'application/strategic-merge-patch+json; charset=utf-8'],
    ['a PUT to a ConfigMap', 'PUT', '/api/v1/namespaces/a/configmaps/x', 'application/json'],
    ['a PUT to a Deployment\'s scale', 'PUT', '/apis/apps/v1/namespaces/a/deployments/d/scale', 'application/json'],
    ['a PUT to a custom resource', 'PUT', '/apis/widgets.example/v1/namespaces/a/widgets/w', 'application/json'],
    ['a PUT through a Service\'s proxy', 'PUT', '/api/v1/namespaces/a/services/web/proxy/x', 'application/json'],
    ['a POST (already a create)', 'POST', '/api/v1/namespaces/a/configmaps', 'application/apply-patch+yaml'],
    ['a GET', 'GET', '/api/v1/namespaces/a/configmaps/x', 'application/apply-patch+yaml'],
  ] as const)('%s is only what its method says', (...[, method, url, contentType]) => {
    expect(requestAttributes(info(method, url), contentType, catalog()).alsoVerbs).toBeUndefined();
  });

  it('does not ask discovery about built-in resources the tables know', () => {
    const known = catalog();
    requestAttributes(info('PUT', '/apis/apps/v1/namespaces/a/deployments/d'), 'application/json', known);
    requestAttributes(info('PUT', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles/r'), 'application/json', known);
    expect(known.asked).toEqual([]);
  });
});

describe('requestAttributes: the scope of a request without a namespace', () => {
  it.each([
    ['a list of nodes', 'GET', '/api/v1/nodes', true],
    ['a list of namespaces', 'GET', '/api/v1/namespaces', true],
    ['a watch of cluster roles', 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles?watch=1', true],
    ['a list of ConfigMaps in every namespace', 'GET', '/api/v1/configmaps', false],
    ['a watch on the old /watch/ path', 'GET', '/api/v1/watch/configmaps', false],
    ['a resource discovery does not know (counts as namespaced)', 'GET', '/apis/new.example/v1/things', false],
  ] as const)('%s: clusterScoped %s', (...[, method, url, clusterScoped]) => {
    expect(requestAttributes(info(method, url), undefined, catalog()).clusterScoped === true).toBe(clusterScoped);
  });

  it('asks discovery only for requests without a namespace', () => {
    const known = catalog();
    const attributes = requestAttributes(info('GET', '/api/v1/namespaces/a/configmaps'), undefined, known);
    expect(known.asked).toEqual([]);
    expect(attributes).toEqual({ resourceRequest: true, verb: 'list', apiGroup: '', resource: 'configmaps', subresource: '', namespace: 'a', name: '', path: '/api/v1/namespaces/a/configmaps' });
  });

  it('leaves non-resource requests alone', () => {
    const known = catalog();
    expect(requestAttributes(info('GET', '/version'), undefined, known)).toMatchObject({ resourceRequest: false, verb: 'get', path: '/version' });
    expect(known.asked).toEqual([]);
  });
});
