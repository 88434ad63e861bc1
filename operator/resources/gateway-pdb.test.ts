import { describe, expect, it } from 'vitest';
import { buildGatewayPodDisruptionBudget } from './gateway-pdb.ts';
import { sampleGateway, withReplicas } from './testdata/gateway.ts';

describe('buildGatewayPodDisruptionBudget', () => {
  it.each([
    [1, false],
    [2, true],
    [5, true],
    [undefined, true],
  ])('with replicas %s builds a budget: %s', (replicas, expected) => {
    expect(buildGatewayPodDisruptionBudget(sampleGateway(withReplicas(replicas))) !== undefined).toBe(expected);
  });

  it('keeps one pod available and lets unhealthy pods be evicted', () => {
    expect(buildGatewayPodDisruptionBudget(sampleGateway())).toMatchObject({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'ci-gateway', namespace: 'airlock-system' },
      spec: {
        minAvailable: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'airlock-gateway', 'app.kubernetes.io/instance': 'ci-gateway' } },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  });
});
