import { describe, expect, it } from 'vitest';
import { buildGatewayServiceAccount } from './gateway-serviceaccount.ts';
import { sampleGateway, withName } from './testdata/gateway.ts';

describe('buildGatewayServiceAccount', () => {
  it.each([
    ['ci-gateway', 'airlock-system', 'airlock-gateway-ci-gateway'],
    ['bots', 'team-a', 'airlock-gateway-bots'],
  ])('names the ServiceAccount of gateway %s/%s after it and turns off token automount', (name, namespace, expected) => {
    const sa = buildGatewayServiceAccount(sampleGateway(withName(name, namespace)));
    expect(sa).toMatchObject({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: expected, namespace, ownerReferences: [{ kind: 'AccessGateway', name, controller: true }] },
      automountServiceAccountToken: false,
    });
  });
});
