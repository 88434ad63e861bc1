import { describe, expect, it } from 'vitest';
import { buildGatewayMetricsService, buildGatewayService } from './gateway-service.ts';
import { sampleGateway, withService } from './testdata/gateway.ts';

const selector = { 'app.kubernetes.io/name': 'airlock-gateway', 'app.kubernetes.io/instance': 'ci-gateway' };

describe('buildGatewayService', () => {
  it.each([
    ['absent', undefined, 'ClusterIP', 443],
    ['ClusterIP on 443', { type: 'ClusterIP' as const, port: 443 }, 'ClusterIP', 443],
    ['NodePort on 6443', { type: 'NodePort' as const, port: 6443 }, 'NodePort', 6443],
    ['LoadBalancer, port defaulted', { type: 'LoadBalancer' as const }, 'LoadBalancer', 443],
  ])('exposes the TLS port as spec.service says: %s', (_what, service, type, port) => {
    const svc = buildGatewayService(sampleGateway(withService(service)));
    expect(svc.metadata).toMatchObject({ name: 'ci-gateway', namespace: 'airlock-system' });
    expect(svc.spec).toEqual({
      type,
      selector,
      ports: [{ name: 'https', port, targetPort: 8443, protocol: 'TCP', appProtocol: 'https' }],
    });
  });

  it.each([['ClusterIP' as const], ['NodePort' as const], ['LoadBalancer' as const]])(
    'keeps the unauthenticated metrics port off the %s Service callers use',
    (type) => {
      const ports = buildGatewayService(sampleGateway(withService({ type }))).spec!.ports!;
      expect(ports.map((p) => p.targetPort)).toEqual([8443]);
    },
  );

  it('serves metrics on port 9090 of a separate ClusterIP Service', () => {
    const svc = buildGatewayMetricsService(sampleGateway(withService({ type: 'LoadBalancer' })));
    expect(svc.metadata).toMatchObject({ name: 'ci-gateway-metrics', labels: { 'app.kubernetes.io/component': 'metrics' } });
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP', appProtocol: 'http' }],
    });
  });
});
