// What the API server serves, as its discovery says: each resource's scope (namespaced or
// cluster-scoped), and which API groups it serves itself rather than through an aggregated API
// server. Policy needs both: a rule listing namespaces governs a request without a namespace only
// on a namespaced resource, and a PUT creates only where the resource allows it.
//
// Read with the gateway's own credential from aggregated discovery (two requests: /api and /apis;
// the legacy per-version documents when the server does not offer it) and the APIService list.
// Refreshed periodically, and when a resource it does not know is asked about (at most once per
// `minRefreshIntervalMs`, one refresh at a time). What it does not know, callers treat strictly:
// an unknown resource counts as namespaced, an unknown group as one whose PUT may create.

export type ResourceScope = 'Namespaced' | 'Cluster';

export interface ApiCatalog {
  /** The resource's scope; undefined when discovery does not list it (a refresh is started). */
  scope(apiGroup: string, resource: string): ResourceScope | undefined;
  /** Whether kube-apiserver serves the group itself (built-in or custom resources); undefined when unknown. */
  servedLocally(apiGroup: string): boolean | undefined;
}

export interface RefreshingApiCatalog extends ApiCatalog {
  /** Reads discovery now (one read at a time); rejects when discovery cannot be read. */
  refresh(): Promise<void>;
  stop(): void;
}

/** GETs a JSON document from the API server with the gateway's own credential. */
export type FetchJson = (path: string, accept: string) => Promise<unknown>;

export interface ApiCatalogOptions {
  readonly fetchJson: FetchJson;
  readonly now?: () => number;
  /** Periodic refresh (default 5 minutes); 0: none. */
  readonly refreshIntervalMs?: number;
  /** Least time between refreshes started by an unknown resource (default 10 s). */
  readonly minRefreshIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const PLAIN = 'application/json';

interface Snapshot {
  readonly scopes: ReadonlyMap<string, ResourceScope>;
  /** Groups by whether kube-apiserver serves them itself; undefined when APIServices could not be read. */
  readonly local: ReadonlyMap<string, boolean> | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const records = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter(isRecord) : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Adds a scope; a resource that any version calls namespaced stays namespaced. */
function addScope(scopes: Map<string, ResourceScope>, key: string, scope: ResourceScope): void {
  if (scopes.get(key) !== 'Namespaced') scopes.set(key, scope);
}

/** An APIGroupDiscoveryList (apidiscovery.k8s.io v2 or v2beta1) into scopes; false when it is not one. */
export function readAggregatedDiscovery(document: unknown, scopes: Map<string, ResourceScope>): boolean {
  if (!isRecord(document) || document['kind'] !== 'APIGroupDiscoveryList') return false;
  for (const group of records(document['items'])) {
    const name = isRecord(group['metadata']) ? text(group['metadata']['name']) : '';
    for (const version of records(group['versions'])) {
      for (const resource of records(version['resources'])) {
        const scope = resource['scope'] === 'Cluster' ? 'Cluster' : 'Namespaced';
        addScope(scopes, `${name}/${text(resource['resource'])}`, scope);
      }
    }
  }
  return true;
}

/** An APIResourceList (legacy discovery of one group version) into scopes. */
export function readResourceList(group: string, document: unknown, scopes: Map<string, ResourceScope>): void {
  if (!isRecord(document)) return;
  for (const resource of records(document['resources'])) {
    const name = text(resource['name']);
    if (name === '' || name.includes('/')) continue;
    addScope(scopes, `${group}/${name}`, resource['namespaced'] === false ? 'Cluster' : 'Namespaced');
  }
}

/** The group versions an APIGroupList names, for the legacy per-version documents. */
function legacyGroupVersions(document: unknown): { group: string; path: string }[] {
  if (!isRecord(document)) return [];
  return records(document['groups']).flatMap((group) => records(group['versions']).map((v) => ({ group: text(group['name']), path: `/apis/${text(v['groupVersion'])}` })));
}

/** APIServices by group: served locally when none of the group's versions names a service. */
export function readApiServices(document: unknown): Map<string, boolean> {
  const local = new Map<string, boolean>();
  for (const item of isRecord(document) ? records(document['items']) : []) {
    const spec = isRecord(item['spec']) ? item['spec'] : {};
    const group = text(spec['group']);
    local.set(group, (local.get(group) ?? true) && !isRecord(spec['service']));
  }
  return local;
}

async function readScopes(fetchJson: FetchJson): Promise<Map<string, ResourceScope>> {
  const scopes = new Map<string, ResourceScope>();
  const [core, groups] = await Promise.all([fetchJson('/api', AGGREGATED), fetchJson('/apis', AGGREGATED)]);
  if (!readAggregatedDiscovery(core, scopes)) readResourceList('', await fetchJson('/api/v1', PLAIN), scopes);
  if (!readAggregatedDiscovery(groups, scopes)) {
    const versions = legacyGroupVersions(groups);
    const lists = await Promise.all(versions.map(({ path }) => fetchJson(path, PLAIN).catch(() => undefined)));
    versions.forEach(({ group }, i) => { readResourceList(group, lists[i], scopes); });
  }
  return scopes;
}

async function readSnapshot(fetchJson: FetchJson, onError: (error: unknown) => void): Promise<Snapshot> {
  const [scopes, local] = await Promise.all([
    readScopes(fetchJson),
    // Without the right to list APIServices the gateway still knows the built-in groups.
    fetchJson('/apis/apiregistration.k8s.io/v1/apiservices', PLAIN).then(readApiServices, (error: unknown) => { onError(error); return undefined; }),
  ]);
  return { scopes, local };
}

export function createApiCatalog(options: ApiCatalogOptions): RefreshingApiCatalog {
  const now = options.now ?? Date.now;
  const minInterval = options.minRefreshIntervalMs ?? 10_000;
  const onError = options.onError ?? (() => undefined);
  let snapshot: Snapshot = { scopes: new Map(), local: undefined };
  let inFlight: Promise<void> | undefined;
  let lastStarted = -Infinity;
  const refresh = (): Promise<void> => {
    inFlight ??= (async () => {
      lastStarted = now();
      try {
        snapshot = await readSnapshot(options.fetchJson, onError);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
  const refreshSoon = (): void => {
    if (inFlight !== undefined || now() - lastStarted < minInterval) return;
    refresh().catch(onError);
  };
  const interval = options.refreshIntervalMs ?? 300_000;
  const timer = interval > 0 ? setInterval(refreshSoon, interval) : undefined;
  timer?.unref();
  return {
    scope: (apiGroup, resource) => {
      const scope = snapshot.scopes.get(`${apiGroup}/${resource}`);
      if (scope === undefined) refreshSoon();
      return scope;
    },
    servedLocally: (apiGroup) => {
      const local = snapshot.local?.get(apiGroup);
      if (local === undefined) refreshSoon();
      return local;
    },
    refresh,
    stop: () => { if (timer !== undefined) clearInterval(timer); },
  };
}
