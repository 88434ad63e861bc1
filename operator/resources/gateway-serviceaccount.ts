// The gateway's ServiceAccount. Nothing mounts its token automatically: the only credential the
// gateway holds is the short-lived one the operator mints for it (TokenRequest) and rotates.
import type { ServiceAccount } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { gatewayResourceNames } from './gateway-names.ts';
import { childMetadata, type GatewayRef } from './labels.ts';

export function buildGatewayServiceAccount(gateway: GatewayRef & Pick<AccessGateway, 'spec'>): ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMetadata(gateway, gatewayResourceNames(gateway).serviceAccount),
    automountServiceAccountToken: false,
  };
}
