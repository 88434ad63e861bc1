import { describe, expect, it } from 'vitest';
import { gatewayEndpoint } from './gateway-endpoint.ts';
import { sampleGateway, withName, withService } from './testdata/gateway.ts';

describe('gatewayEndpoint', () => {
  it.each([
    ['the sample', [], 'https://ci-gateway.airlock-system.svc:443'],
    ['a NodePort gateway on 6443', [withService({ type: 'NodePort', port: 6443 })], 'https://ci-gateway.airlock-system.svc:6443'],
    ['a gateway in another namespace, default port', [withName('bots', 'team-a'), withService(undefined)], 'https://bots.team-a.svc:443'],
  ])('gives %s the in-cluster URL of its Service', (_what, modifiers, url) => {
    expect(gatewayEndpoint(sampleGateway(...modifiers))).toBe(url);
  });
});
