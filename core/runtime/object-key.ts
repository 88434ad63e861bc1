// Work-queue keys: `namespace/name` for namespaced objects, `name` for cluster-scoped ones (the
// same shape as client-go's MetaNamespaceKeyFunc, so logs read the same as kubectl's).
import type { KubernetesObject, ObjectCache } from '@kubernetes/client-node';

export interface ObjectRef {
  readonly namespace?: string;
  readonly name: string;
}

export function keyOf(ref: ObjectRef): string {
  return ref.namespace === undefined || ref.namespace === '' ? ref.name : `${ref.namespace}/${ref.name}`;
}

/** The object's key, or undefined when it has no name (never true of objects from the API). */
export function objectKey(obj: KubernetesObject): string | undefined {
  const name = obj.metadata?.name;
  if (name === undefined || name === '') return undefined;
  return keyOf({ name, ...(obj.metadata?.namespace === undefined ? {} : { namespace: obj.metadata.namespace }) });
}

export function parseKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return slash === -1 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The cached object for `key`, or undefined when it is gone (deleted, or not yet seen). */
export function getByKey<T>(cache: ObjectCache<T>, key: string): T | undefined {
  const ref = parseKey(key);
  return cache.get(ref.name, ref.namespace);
}

/**
 * A `mapToKeys` for owned kinds: the keys of the object's owners of `owner`'s kind and API group
 * (any version). Owners of namespaced objects live in the same namespace.
 */
export function ownerKeys(owner: { readonly apiVersion: string; readonly kind: string }): (obj: KubernetesObject) => string[] {
  const group = groupOf(owner.apiVersion);
  return (obj) => (obj.metadata?.ownerReferences ?? [])
    .filter((ref) => ref.kind === owner.kind && groupOf(ref.apiVersion) === group)
    .map((ref) => keyOf({ name: ref.name, ...(obj.metadata?.namespace === undefined ? {} : { namespace: obj.metadata.namespace }) }));
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}
