import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AccessGateway } from '../../crds/types.gen.ts';
import { parseGatewayConfig } from '../../core/config/gateway-config.ts';
import { sampleGateway } from './testdata/gateway.ts';
import { DEFAULT_AUDIT_FILE, durationMs, labelSelectorString, renderGatewayConfig } from './gateway-config.ts';

const sample = parse(await readFile(new URL('../../config/samples/airlock_v1alpha1_accessgateway.yaml', import.meta.url), 'utf8')) as AccessGateway;

describe('renderGatewayConfig', () => {
  it('turns the sample AccessGateway into a config the gateway accepts', () => {
    const raw = renderGatewayConfig(sample, { upstreamServer: 'https://kubernetes.default.svc' });
    const config = parseGatewayConfig(raw, 'rendered');
    expect(config.name).toBe('ci-gateway');
    expect(config.policy).toEqual({ namespace: 'airlock-system', labelSelector: 'airlock.dev/gateway=ci-gateway', defaultAction: 'Deny', discovery: 'AllAuthenticated' });
    expect(config.authentication.oidc[0]).toMatchObject({ issuerURL: 'https://token.actions.githubusercontent.com', usernamePrefix: 'github:' });
    expect(config.audit).toMatchObject({ failurePolicy: 'FailClosed', file: { path: '/var/log/airlock/audit.log' }, webhook: { flushIntervalMs: 1000 } });
    expect(config.upstream.tokenFile).toBe('/var/run/airlock/credential/token');
    expect(config.recording).toEqual({ dir: '/var/log/airlock/sessions' });
  });

  it('renders spec.limits into the limits the gateway enforces, durations in seconds, absent fields left to the gateway\'s defaults', () => {
    const gateway: AccessGateway = { ...sample, spec: { ...sample.spec, limits: {
      maxConnections: 1000, maxConnectionsPerClientIP: 0, headersTimeout: '1m30s', idleTimeout: '2m', requestBodyTimeout: '45s',
      maxRequestBodyBytes: 8 * 1024 * 1024, requestBodyBufferBytes: 128 * 1024 * 1024, perCaller: { maxLongRunningRequests: 1000 },
    } } };
    const config = parseGatewayConfig(renderGatewayConfig(gateway, { upstreamServer: 'https://kubernetes.default.svc' }), 'rendered');
    const defaults = parseGatewayConfig(renderGatewayConfig(sample, { upstreamServer: 'https://kubernetes.default.svc' }), 'rendered').limits;
    expect(config.limits).toEqual({
      ...defaults, maxConnections: 1000, maxConnectionsPerClientIP: 0, headersTimeoutSeconds: 90, idleTimeoutSeconds: 120, requestBodyTimeoutSeconds: 45,
      maxRequestBodyBytes: 8 * 1024 * 1024, requestBodyBufferBytes: 128 * 1024 * 1024, perCaller: { ...defaults.perCaller, maxLongRunningRequests: 1000 },
    });
    expect(renderGatewayConfig(sample, { upstreamServer: 'https://k' })).not.toHaveProperty('limits');
  });

  it('renders the smallest AccessGateway (spec: {}) into a config the gateway accepts, auditing to the default file', () => {
    const minimal = sampleGateway((g) => { g.spec = {}; });
    const config = parseGatewayConfig(renderGatewayConfig(minimal, { upstreamServer: 'https://kubernetes.default.svc' }), 'rendered');
    expect(config.audit).toMatchObject({ level: 'Metadata', failurePolicy: 'FailClosed', file: { path: DEFAULT_AUDIT_FILE, maxSizeMB: 100, maxFiles: 10 } });
    expect(config.audit.webhook).toBeUndefined();
  });

  it('defaults the audit file where the CRD does', async () => {
    const crd = parse(await readFile(new URL('../../crds/airlock.dev_accessgateways.yaml', import.meta.url), 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: { audit: { properties: { sinks: { default: unknown } } } } } } } } }[] };
    };
    const sinks = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.audit.properties.sinks.default;
    expect(sinks).toEqual([{ file: { path: DEFAULT_AUDIT_FILE } }]);
  });

  it.each([
    [{ matchLabels: { a: 'b' } }, 'a=b'],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['prod', 'staging'] }] }, 'tier in (prod,staging)'],
    [{ matchExpressions: [{ key: 'x', operator: 'Exists' as const }, { key: 'y', operator: 'DoesNotExist' as const }] }, 'x,!y'],
    [undefined, ''],
  ])('renders the policy selector %j as "%s"', (selector, expected) => {
    expect(labelSelectorString(selector)).toBe(expected);
  });

  it.each([['1s', 1000], ['250ms', 250], ['1m30s', 90_000], ['2h', 7_200_000]])('reads duration %s as %d ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });
});
