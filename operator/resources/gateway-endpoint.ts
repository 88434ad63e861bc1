// The URL callers put in their kubeconfig (status.endpoint): the Service's cluster DNS name, which
// is also a name on the operator-managed serving certificate.
import type { AccessGateway } from '../../crds/types.gen.ts';
import { gatewayResourceNames } from './gateway-names.ts';
import { gatewayServicePort } from './gateway-service.ts';
import { gatewayNamespace, type GatewayRef } from './labels.ts';

export function gatewayEndpoint(gateway: GatewayRef & Pick<AccessGateway, 'spec'>): string {
  const service = gatewayResourceNames(gateway).service;
  return `https://${service}.${gatewayNamespace(gateway)}.svc:${gatewayServicePort(gateway)}`;
}
