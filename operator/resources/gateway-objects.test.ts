import { describe, expect, it } from 'vitest';
import { buildGatewayObjects, gatewayObjectList } from './gateway-objects.ts';
import { sampleGateway, withReplicas } from './testdata/gateway.ts';

describe('buildGatewayObjects', () => {
  it.each([
    [2, ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service', 'Service', 'PodDisruptionBudget']],
    [1, ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service', 'Service']],
  ])('with %d replicas builds these kinds, in apply order: %j', (replicas, kinds) => {
    const list = gatewayObjectList(buildGatewayObjects(sampleGateway(withReplicas(replicas)), { defaultImage: 'airlock:dev' }));
    expect(list.map((o) => (o as { kind: string }).kind)).toEqual(kinds);
  });

  it('rolls the Deployment with the checksum the ConfigMap carries', () => {
    const objects = buildGatewayObjects(sampleGateway(), { defaultImage: 'airlock:dev' });
    const checksum = objects.configMap.metadata!.annotations!['airlock.dev/config-checksum'];
    expect(checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(objects.deployment.spec!.template.metadata!.annotations!['airlock.dev/config-checksum']).toBe(checksum);
  });

  it('binds the gateway ClusterRole to the ServiceAccount the pods run as', () => {
    const objects = buildGatewayObjects(sampleGateway(), { defaultImage: 'airlock:dev' });
    const binding = objects.clusterRoleBinding as { subjects: { name: string; namespace: string }[] };
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: objects.serviceAccount.metadata!.name, namespace: 'airlock-system' }]);
    expect(objects.deployment.spec!.template.spec!.serviceAccountName).toBe(objects.serviceAccount.metadata!.name);
  });
});
