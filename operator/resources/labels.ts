// Labels and owner references shared by every object an AccessGateway reconciles into. Selector
// labels are the stable subset: a Deployment's selector is immutable, so it must never include a
// label whose value can change (a version, a part-of grouping).
import type { ObjectMeta, OwnerReference } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';

export const GATEWAY_APP_NAME = 'airlock-gateway';
export const MANAGED_BY = 'airlock-operator';
export const PART_OF = 'airlock';

export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  component: 'app.kubernetes.io/component',
} as const;

/** The gateway as the builders need it: the API object's name, namespace and uid. */
export type GatewayRef = Pick<AccessGateway, 'apiVersion' | 'kind' | 'metadata'>;

/** Name of the gateway, or a TypeError: every builder needs one. */
export function gatewayName(gateway: GatewayRef): string {
  const name = gateway.metadata.name;
  if (name === undefined || name === '') throw new TypeError('AccessGateway has no metadata.name');
  return name;
}

/** Namespace of the gateway, or a TypeError: AccessGateway is namespaced. */
export function gatewayNamespace(gateway: GatewayRef): string {
  const namespace = gateway.metadata.namespace;
  if (namespace === undefined || namespace === '') {
    throw new TypeError(`AccessGateway ${gateway.metadata.name ?? '(unnamed)'} has no metadata.namespace`);
  }
  return namespace;
}

/** Labels that select the gateway's pods; never change them for an existing gateway. */
export function selectorLabels(gateway: GatewayRef): Record<string, string> {
  return { [LABELS.name]: GATEWAY_APP_NAME, [LABELS.instance]: gatewayName(gateway) };
}

/** Every label the operator puts on what it builds for a gateway. */
export function standardLabels(gateway: GatewayRef): Record<string, string> {
  return { ...selectorLabels(gateway), [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: PART_OF };
}

/**
 * The owner reference that makes a namespaced child belong to its gateway, so deleting the
 * gateway deletes the child (garbage collection) and `kubectl describe` shows who made it.
 * Only for children in the gateway's namespace: Kubernetes does not honour a namespaced owner on
 * a cluster-scoped object (ClusterRole, ClusterRoleBinding); those are cleaned up by label.
 */
export function ownerReference(gateway: GatewayRef): OwnerReference {
  const uid = gateway.metadata.uid;
  if (uid === undefined || uid === '') {
    throw new TypeError(`AccessGateway ${gatewayName(gateway)} has no metadata.uid; build children only from an object read from the API server`);
  }
  return {
    apiVersion: gateway.apiVersion,
    kind: gateway.kind,
    name: gatewayName(gateway),
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** metadata for a namespaced child: name, the gateway's namespace, standard labels, owner. */
export function childMetadata(gateway: GatewayRef, name: string, component?: string): ObjectMeta {
  return {
    name,
    namespace: gatewayNamespace(gateway),
    labels: { ...standardLabels(gateway), ...(component === undefined ? {} : { [LABELS.component]: component }) },
    ownerReferences: [ownerReference(gateway)],
  };
}
