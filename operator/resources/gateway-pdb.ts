// A PodDisruptionBudget keeps one gateway pod serving through node drains. With a single replica a
// budget of one would block every drain, so there is none (undefined: the reconciler deletes it).
import type { PodDisruptionBudget } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { DEFAULT_REPLICAS } from './gateway-deployment.ts';
import { gatewayResourceNames } from './gateway-names.ts';
import { childMetadata, selectorLabels, type GatewayRef } from './labels.ts';

export function buildGatewayPodDisruptionBudget(gateway: GatewayRef & Pick<AccessGateway, 'spec'>): PodDisruptionBudget | undefined {
  if ((gateway.spec.replicas ?? DEFAULT_REPLICAS) <= 1) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(gateway, gatewayResourceNames(gateway).podDisruptionBudget),
    spec: {
      minAvailable: 1,
      selector: { matchLabels: selectorLabels(gateway) },
      // A pod that is not ready serves nobody; it must not hold up a drain.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}
