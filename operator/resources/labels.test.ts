import { describe, expect, it } from 'vitest';
import { childMetadata, ownerReference, selectorLabels, standardLabels } from './labels.ts';
import { SAMPLE_UID, sampleGateway } from './testdata/gateway.ts';

describe('labels', () => {
  it('gives every child the four standard app.kubernetes.io labels', () => {
    expect(standardLabels(sampleGateway())).toEqual({
      'app.kubernetes.io/name': 'airlock-gateway',
      'app.kubernetes.io/instance': 'ci-gateway',
      'app.kubernetes.io/managed-by': 'airlock-operator',
      'app.kubernetes.io/part-of': 'airlock',
    });
  });

  it('selects pods by name and instance only, a subset of the standard labels', () => {
    const gateway = sampleGateway();
    expect(selectorLabels(gateway)).toEqual({ 'app.kubernetes.io/name': 'airlock-gateway', 'app.kubernetes.io/instance': 'ci-gateway' });
    expect(standardLabels(gateway)).toMatchObject(selectorLabels(gateway));
  });

  it('makes the gateway the controlling owner that blocks deletion of its children', () => {
    expect(ownerReference(sampleGateway())).toEqual({
      apiVersion: 'airlock.dev/v1alpha1', kind: 'AccessGateway', name: 'ci-gateway', uid: SAMPLE_UID,
      controller: true, blockOwnerDeletion: true,
    });
  });

  it.each([
    ['no uid', (g: ReturnType<typeof sampleGateway>) => { delete g.metadata.uid; }, /has no metadata.uid/],
    ['no name', (g: ReturnType<typeof sampleGateway>) => { delete g.metadata.name; }, /has no metadata.name/],
    ['no namespace', (g: ReturnType<typeof sampleGateway>) => { delete g.metadata.namespace; }, /has no metadata.namespace/],
  ])('refuses to build children of a gateway with %s', (_what, modify, message) => {
    expect(() => childMetadata(sampleGateway(modify), 'x')).toThrow(message);
  });

  it('puts a child in the gateway namespace with labels, an owner and an optional component', () => {
    expect(childMetadata(sampleGateway(), 'ci-gateway-metrics', 'metrics')).toMatchObject({
      name: 'ci-gateway-metrics',
      namespace: 'airlock-system',
      labels: { 'app.kubernetes.io/component': 'metrics', 'app.kubernetes.io/instance': 'ci-gateway' },
      ownerReferences: [{ kind: 'AccessGateway', uid: SAMPLE_UID }],
    });
  });
});
