// The gateway's Services. Callers reach the TLS port through the Service whose type and port the
// spec chooses; the plain-HTTP side port (/metrics, /healthz, /readyz, no authentication) is on a
// separate ClusterIP Service, so a NodePort or LoadBalancer gateway never exposes it off-cluster.
import type { Service } from './k8s-types.ts';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { GATEWAY_PORTS } from './gateway-config.ts';
import { gatewayResourceNames } from './gateway-names.ts';
import { childMetadata, selectorLabels, type GatewayRef } from './labels.ts';

export const DEFAULT_SERVICE_PORT = 443;

type Gateway = GatewayRef & Pick<AccessGateway, 'spec'>;

/** The port callers connect to (spec.service.port, default 443). */
export function gatewayServicePort(gateway: Pick<AccessGateway, 'spec'>): number {
  return gateway.spec.service?.port ?? DEFAULT_SERVICE_PORT;
}

export function buildGatewayService(gateway: Gateway): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(gateway, gatewayResourceNames(gateway).service),
    spec: {
      type: gateway.spec.service?.type ?? 'ClusterIP',
      selector: selectorLabels(gateway),
      ports: [{
        name: 'https',
        port: gatewayServicePort(gateway),
        targetPort: GATEWAY_PORTS.https,
        protocol: 'TCP',
        appProtocol: 'https',
      }],
    },
  };
}

/** ClusterIP Service for Prometheus (port `metrics`, 9090). */
export function buildGatewayMetricsService(gateway: Gateway): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(gateway, gatewayResourceNames(gateway).metricsService, 'metrics'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(gateway),
      ports: [{ name: 'metrics', port: GATEWAY_PORTS.health, targetPort: GATEWAY_PORTS.health, protocol: 'TCP', appProtocol: 'http' }],
    },
  };
}
