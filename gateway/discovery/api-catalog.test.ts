import { describe, expect, it } from 'vitest';
import { createApiCatalog, readApiServices, type FetchJson } from './api-catalog.ts';

const aggregated = (groups: Record<string, Record<string, 'Namespaced' | 'Cluster'>>): unknown => ({
  kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2',
  items: Object.entries(groups).map(([name, resources]) => ({
    metadata: name === '' ? {} : { name },
    versions: [{ version: 'v1', resources: Object.entries(resources).map(([resource, scope]) => ({ resource, scope, verbs: ['get'], subresources: [{ subresource: 'status' }] })) }],
  })),
});

const apiServices = (entries: [group: string, service: boolean][]): unknown => ({
  kind: 'APIServiceList', items: entries.map(([group, service]) => ({ spec: { group, version: 'v1', ...(service ? { service: { namespace: 'm', name: 's' } } : {}) } })),
});

/** A fake API server: documents by path, every call recorded. */
function server(documents: Record<string, unknown>): { fetchJson: FetchJson; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetchJson: (path) => {
      calls.push(path);
      const document = documents[path];
      return document instanceof Error ? Promise.reject(document) : document === undefined ? Promise.reject(new Error(`404 ${path}`)) : Promise.resolve(document);
    },
  };
}

const DOCUMENTS = {
  '/api': aggregated({ '': { configmaps: 'Namespaced', nodes: 'Cluster', namespaces: 'Cluster' } }),
  '/apis': aggregated({ 'rbac.authorization.k8s.io': { clusterroles: 'Cluster', roles: 'Namespaced' }, 'widgets.example': { widgets: 'Namespaced' } }),
  '/apis/apiregistration.k8s.io/v1/apiservices': apiServices([['', false], ['rbac.authorization.k8s.io', false], ['widgets.example', false], ['metrics.example', true]]),
};

describe('createApiCatalog', () => {
  it('reads scopes from aggregated discovery and which groups are served locally from APIServices', async () => {
    const api = server(DOCUMENTS);
    const catalog = createApiCatalog({ fetchJson: api.fetchJson, refreshIntervalMs: 0 });
    await catalog.refresh();
    expect(['nodes', 'namespaces', 'configmaps'].map((r) => catalog.scope('', r))).toEqual(['Cluster', 'Cluster', 'Namespaced']);
    expect(catalog.scope('rbac.authorization.k8s.io', 'clusterroles')).toBe('Cluster');
    expect(catalog.scope('widgets.example', 'widgets')).toBe('Namespaced');
    expect([catalog.servedLocally('widgets.example'), catalog.servedLocally('metrics.example')]).toEqual([true, false]);
    expect(api.calls.sort()).toEqual(['/api', '/apis', '/apis/apiregistration.k8s.io/v1/apiservices']);
  });

  it('falls back to the legacy per-version documents when aggregated discovery is not offered', async () => {
    const api = server({
      '/api': { kind: 'APIVersions', versions: ['v1'] },
      '/api/v1': { kind: 'APIResourceList', resources: [{ name: 'nodes', namespaced: false }, { name: 'pods', namespaced: true }, { name: 'nodes/status', namespaced: false }] },
      '/apis': { kind: 'APIGroupList', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1' }] }, { name: 'broken.example', versions: [{ groupVersion: 'broken.example/v1' }] }] },
      '/apis/apps/v1': { kind: 'APIResourceList', resources: [{ name: 'deployments', namespaced: true }] },
      '/apis/apiregistration.k8s.io/v1/apiservices': new Error('403 Forbidden'),
    });
    const errors: unknown[] = [];
    const catalog = createApiCatalog({ fetchJson: api.fetchJson, refreshIntervalMs: 0, onError: (e) => errors.push(e) });
    await catalog.refresh();
    expect([catalog.scope('', 'nodes'), catalog.scope('', 'pods'), catalog.scope('apps', 'deployments'), catalog.scope('', 'nodes/status')]).toEqual(['Cluster', 'Namespaced', 'Namespaced', undefined]);
    // Without the right to list APIServices, no group is known to be served locally.
    expect(catalog.servedLocally('apps')).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('refreshes when asked about a resource it does not know, at most once per interval, one read at a time', async () => {
    let time = 0;
    const api = server(DOCUMENTS);
    const catalog = createApiCatalog({ fetchJson: api.fetchJson, now: () => time, refreshIntervalMs: 0, minRefreshIntervalMs: 10_000 });
    await catalog.refresh();
    const reads = (): number => api.calls.filter((c) => c === '/apis').length;
    expect(reads()).toBe(1);
    time = 5_000;
    expect(catalog.scope('new.example', 'things')).toBeUndefined();
    expect(reads()).toBe(1);
    time = 10_000;
    catalog.scope('new.example', 'things');
    catalog.scope('new.example', 'other');
    expect(reads()).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    time = 15_000;
    catalog.servedLocally('new.example');
    expect(reads()).toBe(2);
    time = 21_000;
    catalog.servedLocally('new.example');
    expect(reads()).toBe(3);
  });

  it('learns a resource added after the first read', async () => {
    let time = 0;
    const documents: Record<string, unknown> = { ...DOCUMENTS };
    const catalog = createApiCatalog({ fetchJson: server(documents).fetchJson, now: () => time, refreshIntervalMs: 0, minRefreshIntervalMs: 1 });
    await catalog.refresh();
    documents['/apis'] = aggregated({ 'widgets.example': { widgets: 'Namespaced', gadgets: 'Cluster' } });
    time = 10;
    expect(catalog.scope('widgets.example', 'gadgets')).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(catalog.scope('widgets.example', 'gadgets')).toBe('Cluster');
  });

  it('keeps what it knew when discovery cannot be read', async () => {
    const documents: Record<string, unknown> = { ...DOCUMENTS };
    const catalog = createApiCatalog({ fetchJson: server(documents).fetchJson, refreshIntervalMs: 0 });
    await catalog.refresh();
    documents['/apis'] = new Error('connection refused');
    await expect(catalog.refresh()).rejects.toThrow('connection refused');
    expect(catalog.scope('rbac.authorization.k8s.io', 'clusterroles')).toBe('Cluster');
  });

  it('calls a resource namespaced when any version says so', async () => {
    const both = { ...DOCUMENTS, '/apis': { kind: 'APIGroupDiscoveryList', items: [{ metadata: { name: 'x.example' }, versions: [
      { version: 'v2', resources: [{ resource: 'things', scope: 'Cluster' }] }, { version: 'v1', resources: [{ resource: 'things', scope: 'Namespaced' }] },
    ] }] } };
    const catalog = createApiCatalog({ fetchJson: server(both).fetchJson, refreshIntervalMs: 0 });
    await catalog.refresh();
    expect(catalog.scope('x.example', 'things')).toBe('Namespaced');
  });
});

describe('readApiServices', () => {
  it('calls a group local only when none of its versions names a service', () => {
    const local = readApiServices({ items: [
      { spec: { group: 'a.example', version: 'v1' } },
      { spec: { group: 'a.example', version: 'v2', service: { name: 's' } } },
      { spec: { group: 'b.example', version: 'v1' } },
    ] });
    expect(Object.fromEntries(local)).toEqual({ 'a.example': false, 'b.example': true });
  });
});
