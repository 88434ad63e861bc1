// Reading a Secret the operator may or may not find: undefined when it does not exist.
import type { KubernetesObject } from '@kubernetes/client-node';
import { isNotFound } from '../../core/runtime/api-errors.ts';

export type SecretWithData = KubernetesObject & { data?: Record<string, string> };

export async function readSecret(objects: { read(spec: KubernetesObject): Promise<KubernetesObject> }, namespace: string, name: string): Promise<SecretWithData | undefined> {
  try {
    const header: object = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } };
    return await objects.read(header);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
