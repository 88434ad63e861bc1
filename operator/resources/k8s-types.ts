// @kubernetes/client-node's models are classes; the builders return plain JSON objects of the same
// shape (what server-side apply sends), so they use these structural twins. Dates are strings in
// JSON, as the API server writes them.
import type * as k8s from '@kubernetes/client-node';

export type Plain<T> = T extends Date ? string
  : T extends readonly (infer U)[] ? Plain<U>[]
    : T extends object ? { [K in keyof T]: Plain<T[K]> }
      : T;

export type ConfigMap = Plain<k8s.V1ConfigMap>;
export type Container = Plain<k8s.V1Container>;
export type Deployment = Plain<k8s.V1Deployment>;
export type ObjectMeta = Plain<k8s.V1ObjectMeta>;
export type OwnerReference = Plain<k8s.V1OwnerReference>;
export type PodDisruptionBudget = Plain<k8s.V1PodDisruptionBudget>;
export type PodSpec = Plain<k8s.V1PodSpec>;
export type Probe = Plain<k8s.V1Probe>;
export type ResourceRequirements = Plain<k8s.V1ResourceRequirements>;
export type Secret = Plain<k8s.V1Secret>;
export type Service = Plain<k8s.V1Service>;
export type ServiceAccount = Plain<k8s.V1ServiceAccount>;
export type TokenRequest = Plain<k8s.AuthenticationV1TokenRequest>;
export type Volume = Plain<k8s.V1Volume>;
export type VolumeMount = Plain<k8s.V1VolumeMount>;
