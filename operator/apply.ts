// Server-side apply under the operator's one field manager. The desired object is sent whole; the
// API server merges it with what others own and answers with the object as stored (status
// included), so callers read the result instead of issuing a separate GET.
import { PatchStrategy, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'airlock-operator';

/** The slice of KubernetesObjectApi the operator writes through (tests may stand in for it). */
export type ObjectApi = Pick<KubernetesObjectApi, 'patch'>;

/**
 * Applies `desired` (a plain JSON object with apiVersion, kind and metadata.name). `force` takes
 * over fields another manager set, as a controller must for the fields it declares.
 */
export async function applyObject<T extends KubernetesObject>(api: ObjectApi, desired: object): Promise<T> {
  // Plain JSON, not a client-node model class: the builders return structural twins (k8s-types.ts).
  const body = desired as KubernetesObject;
  return api.patch<KubernetesObject>(body, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply) as Promise<T>;
}
