import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig, parseGatewayConfig } from './gateway-config.ts';

const minimal = {
  name: 'ci',
  listen: { tlsCertFile: '/tls/tls.crt', tlsKeyFile: '/tls/tls.key' },
  upstream: { server: 'https://kubernetes.default.svc', tokenFile: '/var/run/airlock/token' },
  audit: { file: { path: '/var/log/airlock/audit.log' } },
};

function problems(raw: unknown): readonly string[] {
  try {
    parseGatewayConfig(raw);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('gateway configuration', () => {
  it('fills defaults for a minimal file', () => {
    const config = parseGatewayConfig(minimal);
    expect(config).toMatchObject({
      namespace: 'default',
      listen: { address: '0.0.0.0', port: 8443 },
      health: { port: 9090 },
      policy: { namespace: '', labelSelector: '', defaultAction: 'Deny' },
      audit: { level: 'Metadata', failurePolicy: 'FailClosed', file: { maxSizeMB: 100, maxFiles: 10 } },
      authentication: { oidc: [], serviceAccountTokens: { enabled: true, audiences: [] } },
      shutdownGraceSeconds: 30,
    });
  });

  it('reports every problem at once, each naming its field', () => {
    expect(problems({
      listen: { port: 70_000 },
      upstream: { server: 'http://plain' },
      authentication: { oidc: [{ issuerURL: 'https://issuer', algorithms: ['HS256'] }], serviceAccountTokens: { enabled: 'yes' } },
      policy: { defaultAction: 'Maybe' },
      audit: { failurePolicy: 'Sometimes' },
    })).toEqual([
      '(root).name: required',
      'listen.port: must be an integer from 0 to 65535',
      'listen.tlsCertFile: required',
      'listen.tlsKeyFile: required',
      'upstream.server: must use https:',
      'upstream.tokenFile: required',
      'authentication.oidc[0].algorithms: "HS256" is not allowed; use RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512',
      'authentication.oidc[0].usernamePrefix: required (use "" for none) so OIDC users cannot collide with cluster users',
      'authentication.oidc[0].audiences: at least one audience is required',
      'authentication.serviceAccountTokens.enabled: must be true or false',
      'policy.defaultAction: must be one of Allow, Deny',
      'audit: at least one sink (audit.file or audit.webhook) is required unless audit.level is None',
      'audit.failurePolicy: must be one of FailClosed, FailOpen',
    ]);
  });

  it.each([
    ['an http OIDC issuer', { authentication: { oidc: [{ issuerURL: 'http://x', audiences: ['a'], usernamePrefix: '' }] } }, 'authentication.oidc[0].issuerURL: must use https:'],
    ['no way to authenticate', { authentication: { serviceAccountTokens: { enabled: false } } }, 'authentication: no way to authenticate callers; configure authentication.oidc or enable serviceAccountTokens'],
    ['a webhook URL that is not a URL', { audit: { webhook: { url: 'nope' } } }, 'audit.webhook.url: "nope" is not a URL'],
    ['a relative recordings directory', { recording: { dir: 'sessions' } }, 'recording.dir: must be an absolute path'],
    ['a recording section without a directory', { recording: {} }, 'recording.dir: required'],
    ['a header timeout of zero (no deadline)', { limits: { headersTimeoutSeconds: 0 } }, 'limits.headersTimeoutSeconds: must be an integer from 1 to 600'],
    ['a per-caller cap of zero', { limits: { perCaller: { maxRequestsInflight: 0 } } }, 'limits.perCaller.maxRequestsInflight: must be an integer from 1 to 1000000'],
    ['a body buffer smaller than the largest body', { limits: { maxRequestBodyBytes: 4096, requestBodyBufferBytes: 2048 } },
      'limits.requestBodyBufferBytes: must be at least limits.maxRequestBodyBytes, or a body of the largest allowed size could never be held'],
  ])('refuses %s', (_name, patch, problem) => {
    expect(problems({ ...minimal, ...patch })).toContain(problem);
  });

  it('has safe limits by default, the ones the README lists', () => {
    expect(parseGatewayConfig(minimal).limits).toEqual({
      maxConnections: 2048, maxConnectionsPerClientIP: 512, tlsHandshakeTimeoutSeconds: 10, headersTimeoutSeconds: 30, idleTimeoutSeconds: 65,
      requestBodyTimeoutSeconds: 60, requestBodyIdleTimeoutSeconds: 30, maxRequestBodyBytes: 3 * 1024 * 1024, requestBodyBufferBytes: 32 * 1024 * 1024,
      requestBodyBufferWaitSeconds: 3, perCaller: { maxRequestsInflight: 64, maxLongRunningRequests: 256 },
    });
  });

  it('allows an http issuer only when allowInsecureHttp is set (tests)', () => {
    const config = parseGatewayConfig({ ...minimal, authentication: { oidc: [{ issuerURL: 'http://127.0.0.1:1', audiences: ['a'], usernamePrefix: '', allowInsecureHttp: true }] } });
    expect(config.authentication.oidc[0]?.issuerURL).toBe('http://127.0.0.1:1');
  });

  it('loads a YAML file and says how to fix a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-config-'));
    await writeFile(join(dir, 'gw.yaml'), 'name: ci\nlisten: {tlsCertFile: /a, tlsKeyFile: /b}\nupstream: {server: "https://k", tokenFile: /t}\naudit: {level: None}\n');
    expect((await loadGatewayConfig(join(dir, 'gw.yaml'))).name).toBe('ci');
    await expect(loadGatewayConfig(join(dir, 'missing.yaml'))).rejects.toThrow('cannot read the file (ENOENT); pass --config with the path of a gateway config');
    await writeFile(join(dir, 'bad.yaml'), 'name: [unclosed');
    await expect(loadGatewayConfig(join(dir, 'bad.yaml'))).rejects.toThrow('not valid YAML');
  });
});

describe('parseGatewayConfig: unknown keys are problems, with the closest known key', () => {
  const minimal = {
    name: 'n', listen: { tlsCertFile: '/c', tlsKeyFile: '/k' }, upstream: { server: 'https://k', tokenFile: '/t' },
  };
  const problems = (raw: unknown): readonly string[] => {
    try {
      parseGatewayConfig(raw, 'test');
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  it.each([
    ['a misspelt port (which would otherwise start on 8443)', { listen: { ...minimal.listen, prot: 0 } }, 'listen.prot: unknown key; did you mean "port"?'],
    ['a misspelt default action (which would otherwise stay Deny)', { policy: { defaultActon: 'Allow' } }, 'policy.defaultActon: unknown key; did you mean "defaultAction"?'],
    ['a key in a list item', { authentication: { oidc: [{ issuerURL: 'https://i', audiences: ['a'], usernamePrefix: '', usernameClam: 'email' }] } }, 'authentication.oidc[0].usernameClam: unknown key; did you mean "usernameClaim"?'],
    ['a top-level key nothing resembles', { telemetry: true }, 'telemetry: unknown key; known keys here: name, namespace, listen, health, upstream, authentication, policy, audit, recording, approvals, limits, shutdownGraceSeconds'],
    ['a nested limit', { limits: { perCaller: { maxRequestInflight: 3 } } }, 'limits.perCaller.maxRequestInflight: unknown key; did you mean "maxRequestsInflight"?'],
  ])('reports %s', (_name, extra, expected) => {
    expect(problems({ ...minimal, ...extra })).toContain(expected);
  });

  it('reports every unknown key with the other problems, at once', () => {
    const found = problems({ ...minimal, listen: { prot: 1, tlsKeyFile: '/k' }, polcy: {} });
    expect(found).toEqual(expect.arrayContaining(['listen.tlsCertFile: required', 'listen.prot: unknown key; did you mean "port"?', 'polcy: unknown key; did you mean "policy"?']));
  });

  it('takes any key of requiredClaims (a map of claims)', () => {
    expect(problems({ ...minimal, authentication: { oidc: [{ issuerURL: 'https://i', audiences: ['a'], usernamePrefix: '', requiredClaims: { repository_owner: 'acme' } }] } }).filter((p) => p.includes('unknown key'))).toEqual([]);
  });
});
