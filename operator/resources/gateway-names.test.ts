import { describe, expect, it } from 'vitest';
import { gatewayNameProblem, gatewayResourceNames, upstreamCaSource } from './gateway-names.ts';
import { sampleGateway, withSpec } from './testdata/gateway.ts';

describe('gatewayResourceNames', () => {
  it('derives every owned name from the gateway name', () => {
    expect(gatewayResourceNames(sampleGateway())).toEqual({
      deployment: 'ci-gateway',
      service: 'ci-gateway',
      metricsService: 'ci-gateway-metrics',
      configMap: 'ci-gateway-config',
      credentialSecret: 'ci-gateway-credential',
      tlsSecret: 'ci-gateway-tls',
      podDisruptionBudget: 'ci-gateway',
      serviceAccount: 'airlock-gateway-ci-gateway',
      caSecret: 'airlock-gateway-ca',
    });
  });

  it.each([
    ['OperatorManaged', { mode: 'OperatorManaged' as const }, 'ci-gateway-tls'],
    ['absent', undefined, 'ci-gateway-tls'],
    ['Secret', { mode: 'Secret' as const, secretName: 'from-cert-manager' }, 'from-cert-manager'],
  ])('serves TLS from the right Secret when tls.mode is %s', (_mode, tls, expected) => {
    const gateway = sampleGateway(withSpec({ tls }));
    expect(gatewayResourceNames(gateway).tlsSecret).toBe(expected);
  });

  it('refuses tls.mode Secret without a secretName (the CRD forbids it too)', () => {
    expect(() => gatewayResourceNames(sampleGateway(withSpec({ tls: { mode: 'Secret' } })))).toThrow(/needs tls.secretName/);
  });
});

describe('gatewayNameProblem', () => {
  it.each([
    ['ci-gateway', undefined],
    ['a', undefined],
    ['g'.repeat(55), undefined],
    ['g'.repeat(56), 'is 56 characters; a gateway name is at most 55'],
    ['ci.gateway', 'is not a DNS label'],
    ['1gateway', 'is not a DNS label'],
    ['gateway-', 'is not a DNS label'],
  ])('judges the name %s', (name, problem) => {
    const found = gatewayNameProblem(name);
    if (problem === undefined) expect(found).toBeUndefined(); else expect(found).toContain(problem);
  });
});

describe('upstreamCaSource', () => {
  it.each([
    ['the cluster it runs in', undefined, { kind: 'ConfigMap', name: 'kube-root-ca.crt' }],
    ['a remote server with a CA Secret', { server: 'https://api.prod.example.com:6443', caSecretRef: { name: 'prod-ca' } }, { kind: 'Secret', name: 'prod-ca' }],
    ['a remote server with a public certificate', { server: 'https://api.prod.example.com:6443' }, undefined],
  ])('trusts %s through the right bundle', (_what, upstream, expected) => {
    expect(upstreamCaSource(sampleGateway(withSpec({ upstream })))).toEqual(expected);
  });
});
