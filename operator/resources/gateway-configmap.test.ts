import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseGatewayConfig } from '../../core/config/gateway-config.ts';
import { renderGatewayConfig } from './gateway-config.ts';
import { buildGatewayConfigMap, canonicalJson, configChecksum } from './gateway-configmap.ts';
import { IN_CLUSTER_SERVER } from './gateway-names.ts';
import { sampleGateway, withSpec } from './testdata/gateway.ts';

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ a: { d: [3, { z: 1, y: 2 }], c: null } }, '{"a":{"c":null,"d":[3,{"y":2,"z":1}]}}'],
    [{ a: undefined, b: 'x' }, '{"b":"x"}'],
    [[undefined, 'é'], '[null,"é"]'],
  ])('writes %j as %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each([[Number.NaN], [() => 1], [10n]])('refuses %s, which JSON cannot hold', (value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });
});

describe('configChecksum', () => {
  it.each([
    ['key order differs', { a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }, true],
    ['an undefined field is added', { a: 1 }, { a: 1, b: undefined }, true],
    ['a value changes', { a: 1 }, { a: 2 }, false],
    ['list order changes', { a: [1, 2] }, { a: [2, 1] }, false],
  ])('when %s, the checksum stays the same: %s', (_what, left, right, same) => {
    expect(configChecksum(left) === configChecksum(right)).toBe(same);
  });

  it('is a sha256 in hex', () => {
    expect(configChecksum({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
});

describe('buildGatewayConfigMap', () => {
  const render = (g: ReturnType<typeof sampleGateway>): Record<string, unknown> => renderGatewayConfig(g, { upstreamServer: IN_CLUSTER_SERVER });

  it('holds gateway.yaml, which the gateway parses back to the same config', () => {
    const gateway = sampleGateway();
    const rendered = render(gateway);
    const cm = buildGatewayConfigMap(gateway, rendered);
    const text = cm.data!['gateway.yaml']!;
    expect(text).toMatch(/^# Rendered by airlock-operator from AccessGateway airlock-system\/ci-gateway\./);
    expect(parse(text)).toEqual(rendered);
    expect(parseGatewayConfig(parse(text), 'configmap').name).toBe('ci-gateway');
    expect(cm.metadata).toMatchObject({
      name: 'ci-gateway-config',
      namespace: 'airlock-system',
      annotations: { 'airlock.dev/config-checksum': configChecksum(rendered) },
    });
  });

  it.each([
    ['defaultAction', withSpec({ defaultAction: 'Allow' }), true],
    ['discovery', withSpec({ discovery: 'Policy' }), true],
    ['replicas (not in the config)', withSpec({ replicas: 5 }), false],
    ['the image (not in the config)', withSpec({ image: 'other:1' }), false],
  ])('changes its checksum when %s changes: %s', (_what, modify, changes) => {
    expect(configChecksum(render(sampleGateway(modify))) !== configChecksum(render(sampleGateway()))).toBe(changes);
  });
});
