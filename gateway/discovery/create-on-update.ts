// Which PUTs can create. kube-apiserver lets a PUT create a missing object when the resource's
// registry strategy says AllowCreateOnUpdate() (pkg/registry/**/strategy.go), and it then also
// authorizes the request as `create` (handlers/update.go). Policy must see that create too.
//
// The tables are Kubernetes 1.36's built-in resources; e2e/gateway-parity.e2e.test.ts checks them
// against the running API server (a dry-run PUT to a missing name: created, or NotFound). A
// resource in neither table (a built-in of a newer version, an aggregated API the gateway cannot
// see into) counts as creating: fail closed. Custom resources never create on update.

/** Built-in resources whose PUT creates a missing object, by API group. */
const CREATES: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['', new Set(['endpoints', 'events', 'limitranges', 'services'])],
  ['events.k8s.io', new Set(['events'])],
  ['rbac.authorization.k8s.io', new Set(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'])],
  ['coordination.k8s.io', new Set(['leases', 'leasecandidates'])],
  ['node.k8s.io', new Set(['runtimeclasses'])],
]);

/** Built-in resources with a PUT that answers NotFound for a missing object, by API group. */
const UPDATES_ONLY: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['', new Set([
    'configmaps', 'namespaces', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'pods', 'podtemplates',
    'replicationcontrollers', 'resourcequotas', 'secrets', 'serviceaccounts',
  ])],
  ['admissionregistration.k8s.io', new Set([
    'mutatingadmissionpolicies', 'mutatingadmissionpolicybindings', 'mutatingwebhookconfigurations',
    'validatingadmissionpolicies', 'validatingadmissionpolicybindings', 'validatingwebhookconfigurations',
  ])],
  ['apiextensions.k8s.io', new Set(['customresourcedefinitions'])],
  ['apiregistration.k8s.io', new Set(['apiservices'])],
  ['apps', new Set(['controllerrevisions', 'daemonsets', 'deployments', 'replicasets', 'statefulsets'])],
  ['autoscaling', new Set(['horizontalpodautoscalers'])],
  ['batch', new Set(['cronjobs', 'jobs'])],
  ['certificates.k8s.io', new Set(['certificatesigningrequests'])],
  ['discovery.k8s.io', new Set(['endpointslices'])],
  ['flowcontrol.apiserver.k8s.io', new Set(['flowschemas', 'prioritylevelconfigurations'])],
  ['networking.k8s.io', new Set(['ingressclasses', 'ingresses', 'ipaddresses', 'networkpolicies', 'servicecidrs'])],
  ['policy', new Set(['poddisruptionbudgets'])],
  ['resource.k8s.io', new Set(['deviceclasses', 'resourceclaims', 'resourceclaimtemplates', 'resourceslices'])],
  ['scheduling.k8s.io', new Set(['priorityclasses'])],
  ['storage.k8s.io', new Set(['csidrivers', 'csinodes', 'csistoragecapacities', 'storageclasses', 'volumeattachments', 'volumeattributesclasses'])],
]);

/** API groups kube-apiserver serves itself (never a custom resource's group). */
const BUILT_IN_GROUPS: ReadonlySet<string> = new Set([
  ...CREATES.keys(), ...UPDATES_ONLY.keys(), 'authentication.k8s.io', 'authorization.k8s.io', 'internal.apiserver.k8s.io', 'storagemigration.k8s.io',
]);

export function isBuiltInGroup(apiGroup: string): boolean {
  return BUILT_IN_GROUPS.has(apiGroup);
}

/** How the gateway knows what a PUT does, for the reason it gives. */
export type PutCreates = 'creates' | 'unknown' | 'no';

/**
 * Whether a PUT to this resource can create its object. `servedLocally`: whether kube-apiserver
 * serves the group itself (built-in or custom resources; an APIService without a service), as
 * discovery says, undefined when it does not know; asked only for groups that are not built in.
 */
export function putCreates(target: { readonly apiGroup: string; readonly resource: string; readonly subresource: string }, servedLocally: () => boolean | undefined): PutCreates {
  // A proxy subresource forwards the PUT to the object's backend: it never writes the object.
  if (target.subresource === 'proxy') return 'no';
  if (CREATES.get(target.apiGroup)?.has(target.resource) === true) return 'creates';
  if (UPDATES_ONLY.get(target.apiGroup)?.has(target.resource) === true) return 'no';
  if (isBuiltInGroup(target.apiGroup)) return 'unknown';
  return servedLocally() === true ? 'no' : 'unknown';
}

/** The tables, for the parity test that checks them against a running API server. */
export const CREATE_ON_UPDATE_TABLES = { creates: CREATES, updatesOnly: UPDATES_ONLY } as const;
